using Crm.Api.Dashboard;
using Crm.Jobs.Data;
using Npgsql;
using NpgsqlTypes;

namespace Crm.Api.Reads;

// How a client reads back its own write when reads may go to a standby: a write's answer
// carries Crm-Lsn, the primary's WAL position after it; a read sent with Crm-Read-After: that
// value is served only by a server that has replayed at least that far, so by the primary
// while the standby has not (docs/API.md#reading-your-own-writes). The dashboard's own forms
// get the same through a short-lived cookie, as a browser sends no such header.
public static class ReadYourWrites
{
    public const string LsnHeader = "Crm-Lsn";
    public const string ReadAfterHeader = "Crm-Read-After";
    public const string DashboardCookie = "crm-read-after";

    // Long enough for the page a dashboard form redirects to, and more than MaxReadLag's default.
    private static readonly TimeSpan CookieLifetime = TimeSpan.FromMinutes(1);

    private static readonly object ReadAfterKey = new();

    public static IApplicationBuilder UseReadYourWrites(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        // Here, before the dashboard's branch moves its path into PathBase.
        var dashboard = http.Request.Path.StartsWithSegments(DashboardAccess.Path);
        var header = http.Request.Headers[ReadAfterHeader].ToString();
        if (header.Length > 0)
        {
            if (!NpgsqlLogSequenceNumber.TryParse(header.Trim(), out var lsn))
            {
                await TypedResults.ValidationProblem(new Dictionary<string, string[]>
                {
                    [ReadAfterHeader] = [$"The value must be a WAL position such as 0/16B3748, as a write's {LsnHeader} header gives it."],
                }).ExecuteAsync(http);
                return;
            }
            http.Items[ReadAfterKey] = lsn;
        }
        else if (dashboard && NpgsqlLogSequenceNumber.TryParse(http.Request.Cookies[DashboardCookie] ?? "", out var fromCookie))
        {
            http.Items[ReadAfterKey] = fromCookie;
        }

        var replica = http.RequestServices.GetRequiredService<ReadReplica>();
        if (replica.Standby is not null && !HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method)
            && !HttpMethods.IsOptions(http.Request.Method))
            http.Response.OnStarting(() => MarkWriteAsync(http, replica, dashboard));
        await next(http);
    });

    // The value of Crm-Read-After (or the dashboard's cookie) this request came with, if any.
    public static NpgsqlLogSequenceNumber? ReadAfter(HttpContext? http) =>
        http?.Items.TryGetValue(ReadAfterKey, out var value) == true ? (NpgsqlLogSequenceNumber)value! : null;

    // After the write's commit, so the position is past it. A primary that cannot be asked
    // (it went away the moment after the commit) leaves the header off rather than turn an
    // acknowledged write into an error: the write stands, and a read without the header may be
    // up to MaxReadLag stale. Logged, as the client cannot know.
    private static async Task MarkWriteAsync(HttpContext http, ReadReplica replica, bool dashboard)
    {
        // 3xx too: a dashboard form answers its POST with a redirect to the page it changed.
        if (http.Response.StatusCode is < 200 or > 399)
            return;
        try
        {
            await using var command = replica.Primary.CreateCommand("SELECT pg_current_wal_insert_lsn()");
            var lsn = (NpgsqlLogSequenceNumber)(await command.ExecuteScalarAsync(http.RequestAborted))!;
            var text = lsn.ToString();
            http.Response.Headers[LsnHeader] = text;
            if (dashboard)
                http.Response.Cookies.Append(DashboardCookie, text, new CookieOptions
                {
                    Path = DashboardAccess.Path, HttpOnly = true, SameSite = SameSiteMode.Strict,
                    Secure = http.Request.IsHttps, MaxAge = CookieLifetime,
                });
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or OperationCanceledException)
        {
            http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ReadYourWrites))
                .LogWarning("A write's answer goes without {Header}: the primary's position could not be read ({Reason})",
                    LsnHeader, PostgresErrorText.CodeOf(e));
        }
    }
}
