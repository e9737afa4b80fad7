using System.Net;
using System.Security.Claims;
using Crm.Api.Reads;
using Hangfire.Dashboard;

namespace Crm.Api.Dashboard;

// What the desk's pages (Customers, a customer's card) share: the request's services, its
// caller, the dashboard's clock face, and HTML encoding of every value from the data.
public abstract class DeskPage : RazorPage
{
    protected HttpContext Http => Context.GetHttpContext();

    protected ClaimsPrincipal User => Http.User;

    protected DashboardTime Time => Service<DashboardTime>();

    // Hangfire renders its pages synchronously: the shared asynchronous reads are waited for.
    protected T Service<T>() where T : notnull => Http.RequestServices.GetRequiredService<T>();

    // The page's reads, on the standby while it keeps up (ReadSource).
    protected T ReadService<T>() where T : notnull => Http.RequestServices.GetRequiredKeyedService<T>(ReadSource.Key);

    protected static string H(string? text) => WebUtility.HtmlEncode(text ?? "");

    // A heading with the zone the column's times are in: "Created (Europe/Moscow)".
    protected string Zoned(string heading) => $"{heading} ({H(Time.ZoneName)})";
}
