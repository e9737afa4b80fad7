using Crm.Api.Customers;
using Crm.Api.Reads;
using Crm.Jobs.Data;
using Crm.Jobs.Phones;
using FluentValidation;
using Hangfire.Dashboard;

namespace Crm.Api.Dashboard;

// /hangfire/customers/csv?<the Customers page's filter>: the whole segment, in the page's
// order, as the CSV GET /api/customers streams with Accept: text/csv. A dashboard route, so
// the dashboard's sign-in and reader access apply to it as to the page it is linked from.
public sealed class CustomersCsvDispatcher : IDashboardDispatcher
{
    public const string Path = CustomersPage.Path + "/csv";

    public async Task Dispatch(DashboardContext context)
    {
        var http = context.GetHttpContext();
        var services = http.RequestServices;
        var form = CustomerListForm.Read(http.Request, services.GetRequiredService<IValidator<CustomerListQuery>>());
        // Only a hand-edited link gets here (the page shows its own errors): the API's 400.
        if (!form.IsValid)
        {
            var errors = form.Errors.GroupBy(e => e.Field).ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray());
            await TypedResults.ValidationProblem(errors).ExecuteAsync(http);
            return;
        }
        var db = services.GetRequiredKeyedService<CrmDbContext>(ReadSource.Key);
        var customers = CustomerFilters.Segment(db, form.Query, services.GetRequiredService<PhoneNormalizer>(),
            services.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime);
        await CustomerCsv.WriteAsync(http.Response, CustomerOrdering.Apply(customers, form.Query.Ordering), "customers.csv", http.RequestAborted);
    }
}
