using Crm.Api.Auth;
using Hangfire.Dashboard;

namespace Crm.Api.Dashboard;

// Hangfire asks this after the handler above has authenticated the caller.
public sealed class DashboardAccess : IDashboardAuthorizationFilter
{
    public const string Path = "/hangfire";

    public bool Authorize(DashboardContext context) =>
        context.GetHttpContext().User.IsInRole(CrmRoles.Reader);

    // Readers may look; only admins trigger, retry and delete jobs.
    public static bool IsReadOnly(DashboardContext context) =>
        !context.GetHttpContext().User.IsInRole(CrmRoles.Admin);
}
