using System.Net;
using Hangfire.Dashboard;
using Hangfire.Dashboard.Pages;
using Npgsql;

namespace Crm.Api.Dashboard;

// The business side of the jobs: a "Syncs" page in the Hangfire dashboard listing sync
// runs with their mode, counts and duration, each linked to its job.
public sealed class SyncsPage : RazorPage
{
    public const string Path = "/syncs";
    private const int Shown = 100;

    private static int _registered;

    // The dashboard's routes and menu are process-wide in Hangfire: add them once.
    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1)
            return;
        DashboardRoutes.Routes.AddRazorPage(Path, _ => new SyncsPage());
        NavigationMenu.Items.Add(page => new MenuItem("Syncs", page.Url.To(Path)) { Active = page.RequestPath.StartsWith(Path) });
    }

    public override void Execute()
    {
        Layout = new LayoutPage("Syncs");
        var dataSource = Context.GetHttpContext().RequestServices.GetRequiredService<NpgsqlDataSource>();
        WriteLiteral($"""
            <div class="row"><div class="col-md-12">
            <h1 class="page-header">Syncs</h1>
            <p>The newest {Shown} sync runs: automatic (after order writes and imports) and full (manual, scheduled, command line). Errors counts the customers a run could not write (listed below).</p>
            <div class="table-responsive"><table class="table table-striped" id="sync-runs">
            <thead><tr><th>Run</th><th>Job</th><th>Mode</th><th>Status</th><th>Started (UTC)</th>
            <th>Created</th><th>Updated</th><th>Unchanged</th><th>Skipped</th><th>Errors</th><th>Customers</th><th>Duration</th></tr></thead>
            <tbody>
            """);
        using var command = dataSource.CreateCommand($"""
            SELECT id, job_id, mode, status, started_at, created_count, updated_count, unchanged_count,
                   skipped_count, error_count, total_customers, duration_ms, error
            FROM sync_runs ORDER BY started_at DESC, id DESC LIMIT {Shown}
            """);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var jobId = reader.IsDBNull(1) ? null : reader.GetString(1);
            var job = jobId is null ? "command line" : $"<a href=\"{Url.JobDetails(jobId)}\">#{WebUtility.HtmlEncode(jobId)}</a>";
            var status = WebUtility.HtmlEncode(reader.GetString(3));
            var error = reader.IsDBNull(12) ? "" : $" title=\"{WebUtility.HtmlEncode(reader.GetString(12))}\"";
            WriteLiteral($"""
                <tr><td>{reader.GetInt64(0)}</td><td>{job}</td><td>{WebUtility.HtmlEncode(reader.GetString(2))}</td>
                <td{error}>{status}</td><td>{reader.GetDateTime(4):yyyy-MM-dd HH:mm:ss}</td>
                <td>{reader.GetInt32(5)}</td><td>{reader.GetInt32(6)}</td><td>{reader.GetInt32(7)}</td>
                <td>{reader.GetInt32(8)}</td><td>{reader.GetInt32(9)}</td><td>{reader.GetInt32(10)}</td>
                <td>{reader.GetInt64(11)} ms</td></tr>
                """);
        }
        WriteLiteral("</tbody></table></div>");
        WriteErrors(dataSource);
        WriteLiteral("</div></div>");
    }

    // Customers the database refused: the rest of their batch committed without them, and
    // each is retried on its own at its retry time.
    private void WriteErrors(NpgsqlDataSource dataSource)
    {
        using var command = dataSource.CreateCommand($"""
            SELECT phone, sql_state, error, run_id, attempts, last_failed_at, retry_at
            FROM sync_errors ORDER BY last_failed_at DESC, phone LIMIT {Shown}
            """);
        using var reader = command.ExecuteReader();
        if (!reader.HasRows)
        {
            WriteLiteral("<h3>Customers not written</h3><p id=\"sync-errors-none\">None: every customer the syncs saw was written.</p>");
            return;
        }
        WriteLiteral("""
            <h3>Customers not written</h3>
            <p>The database refused these customers' rows; their syncs skipped them and committed the rest. Each is retried on its own at its retry time, and at once after a new write of its orders.</p>
            <div class="table-responsive"><table class="table table-striped" id="sync-errors">
            <thead><tr><th>Phone</th><th>SQLSTATE</th><th>Error</th><th>Last run</th><th>Attempts</th><th>Last failed (UTC)</th><th>Retry at (UTC)</th></tr></thead>
            <tbody>
            """);
        while (reader.Read())
        {
            WriteLiteral($"""
                <tr><td>{WebUtility.HtmlEncode(reader.GetString(0))}</td><td>{WebUtility.HtmlEncode(reader.GetString(1))}</td>
                <td>{WebUtility.HtmlEncode(reader.GetString(2))}</td><td>{(reader.IsDBNull(3) ? "" : reader.GetInt64(3).ToString())}</td>
                <td>{reader.GetInt32(4)}</td><td>{reader.GetDateTime(5):yyyy-MM-dd HH:mm:ss}</td><td>{reader.GetDateTime(6):yyyy-MM-dd HH:mm:ss}</td></tr>
                """);
        }
        WriteLiteral("</tbody></table></div>");
    }
}
