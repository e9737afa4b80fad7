using Hangfire.Dashboard;

namespace Crm.Api.Dashboard;

// The pages the service adds to Hangfire's dashboard: Syncs, and the desk (Customers, a
// customer's card, its note form, the CSV of a filter).
public static class DashboardPages
{
    private static int _registered;

    // The dashboard's routes and menu are process-wide in Hangfire: add them once.
    public static void Register()
    {
        SyncsPage.Register();
        if (Interlocked.Exchange(ref _registered, 1) == 1)
            return;
        DashboardRoutes.Routes.AddRazorPage(CustomersPage.Path, _ => new CustomersPage());
        DashboardRoutes.Routes.Add(CustomersCsvDispatcher.Path, new CustomersCsvDispatcher());
        DashboardRoutes.Routes.AddRazorPage(CustomerCardPage.Route, match => new CustomerCardPage(IdOf(match), posting: false));
        DashboardRoutes.Routes.AddRazorPage(CustomerCardPage.NotesRoute, match => new CustomerCardPage(IdOf(match), posting: true));
        NavigationMenu.Items.Add(page => new MenuItem("Customers", page.Url.To(CustomersPage.Path))
        {
            Active = page.RequestPath.StartsWith(CustomersPage.Path, StringComparison.Ordinal),
        });
    }

    private static long IdOf(System.Text.RegularExpressions.Match match) => long.Parse(match.Groups["id"].Value);
}
