using System.Net;
using Hangfire.Dashboard;
using Hangfire.Dashboard.Pages;
using Npgsql;

namespace Crm.Api.Dashboard;

// One sync run's changes in the dashboard (the Syncs page links each run here): what it
// changed, per field and change by change, as the ledger holds them. The API serves the
// same list paged and filtered (GET /api/sync/runs/{id}/changes); the dashboard signs in
// with HTTP Basic, which the API does not take, hence a page of its own.
public sealed class SyncRunChangesPage(long runId) : RazorPage
{
    public const string PathPattern = "/syncs/runs/(?<id>\\d{1,18})";
    private const int Shown = 200;

    public static string PathOf(long runId) => $"/syncs/runs/{runId}";

    public override void Execute()
    {
        Layout = new LayoutPage($"Sync run {runId}");
        var dataSource = Context.GetHttpContext().RequestServices.GetRequiredService<NpgsqlDataSource>();
        WriteLiteral($"""<div class="row"><div class="col-md-12"><h1 class="page-header">Sync run {runId}</h1>""");

        using (var command = dataSource.CreateCommand("""
            SELECT mode, status, started_at, dry_run, reverted_at, revert_job_id,
                   (SELECT string_agg(key || ' ' || value, ' · ' ORDER BY key) FROM jsonb_each_text(changes))
            FROM sync_runs WHERE id = @id
            """))
        {
            command.Parameters.AddWithValue("id", runId);
            using var reader = command.ExecuteReader();
            if (!reader.Read())
            {
                WriteLiteral($"""<p id="sync-run">No such run (it may have been pruned). <a href="{Url.To(SyncsPage.Path)}">All runs</a></p></div></div>""");
                return;
            }
            var dryRun = reader.GetBoolean(3);
            var reverted = reader.IsDBNull(4) ? "" : $" · reverted at {reader.GetDateTime(4):yyyy-MM-dd HH:mm:ss} (UTC)";
            var revertJob = reader.IsDBNull(5) ? "" : $" · revert job #{WebUtility.HtmlEncode(reader.GetString(5))}";
            var counts = reader.IsDBNull(6) ? "none recorded" : WebUtility.HtmlEncode(reader.GetString(6));
            WriteLiteral($"""
                <p id="sync-run">{WebUtility.HtmlEncode(reader.GetString(0))} · {WebUtility.HtmlEncode(reader.GetString(1))}
                · started {reader.GetDateTime(2):yyyy-MM-dd HH:mm:ss} (UTC){reverted}{revertJob}
                {(dryRun ? """ <span class="label label-info">dry run</span>""" : "")}</p>
                <p>Changes per field: {counts}.</p>
                """);
            if (dryRun)
            {
                WriteLiteral("""
                    <p>A dry run wrote nothing: these counts are what the real run would change. The first 100 changes are in its job's result.</p>
                    </div></div>
                    """);
                return;
            }
        }

        WriteLiteral($"""
            <p>The first {Shown} changes in the order they were written (all of them, paged and filtered by field: <code>GET /api/sync/runs/{runId}/changes</code>).</p>
            <div class="table-responsive"><table class="table table-striped" id="sync-run-changes">
            <thead><tr><th>Customer</th><th>Field</th><th>From</th><th>To</th><th>Source</th><th>At (UTC)</th></tr></thead><tbody>
            """);
        using (var command = dataSource.CreateCommand($"""
            SELECT customer_id, field, coalesce(old_value::text, ''), coalesce(new_value::text, ''), source, changed_at
            FROM customer_changes WHERE run_id = @id ORDER BY id LIMIT {Shown}
            """))
        {
            command.Parameters.AddWithValue("id", runId);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                WriteLiteral($"""
                    <tr><td>{reader.GetInt64(0)}</td><td>{WebUtility.HtmlEncode(reader.GetString(1))}</td>
                    <td>{WebUtility.HtmlEncode(reader.GetString(2))}</td><td>{WebUtility.HtmlEncode(reader.GetString(3))}</td>
                    <td>{WebUtility.HtmlEncode(reader.GetString(4))}</td><td>{reader.GetDateTime(5):yyyy-MM-dd HH:mm:ss}</td></tr>
                    """);
            }
        }
        WriteLiteral("</tbody></table></div></div></div>");
    }
}
