using System.Net;
using System.Text;
using System.Text.Json;
using Crm.Api.Shop;
using Crm.Jobs.Data;
using Crm.Jobs.Shop;
using Crm.Jobs.Sync;
using Crm.Jobs.Webhooks;
using Hangfire.Dashboard;
using Hangfire.Dashboard.Pages;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Crm.Api.Dashboard;

// The business side of the jobs: a "Syncs" page in the Hangfire dashboard listing sync
// runs with their mode, counts and duration, each linked to its job and to its changes
// (SyncChangesPage).
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
        DashboardRoutes.Routes.AddRazorPage(SyncChangesPage.Route, match => new SyncChangesPage(long.Parse(match.Groups["run"].Value)));
        NavigationMenu.Items.Add(page => new MenuItem("Syncs", page.Url.To(Path)) { Active = page.RequestPath.StartsWith(Path) });
    }

    // The follower of the shop's database (GET /api/shop in a panel). Hangfire renders its
    // pages synchronously, hence the wait on the shared asynchronous reader.
    private string ShopCard()
    {
        var services = Context.GetHttpContext().RequestServices;
        var shop = ShopEndpoints.ReadAsync(services.GetRequiredService<CrmDbContext>(),
            services.GetRequiredService<IOptions<ShopOptions>>().Value, services.GetRequiredService<TimeProvider>(),
            CancellationToken.None).GetAwaiter().GetResult();
        var state = EnumText.ToText(shop.State);
        var style = shop.State switch
        {
            ShopFollowerStatus.Following => "panel-success",
            ShopFollowerStatus.Snapshotting or ShopFollowerStatus.Disabled => "panel-default",
            _ => "panel-danger",
        };
        var body = shop.State == ShopFollowerStatus.Disabled
            ? "Not following the shop's database (Crm:Shop:ConnectionString is not set)."
            : $"State <b>{state}</b> · snapshot {shop.SnapshotRows} rows · {shop.OrdersApplied} changes applied · " +
              $"{shop.Rejected} rejected · lag {shop.LagBytes?.ToString() ?? "?"} bytes · last applied " +
              $"{shop.LastAppliedAt?.ToString("yyyy-MM-dd HH:mm:ss") ?? "never"} (UTC)" +
              (shop.Error is null ? "" : $"<br>{WebUtility.HtmlEncode(shop.Error)}");
        return $"""<div class="panel {style}" id="shop-follower"><div class="panel-heading">Shop</div><div class="panel-body">{body}</div></div>""";
    }

    // The webhook outbox at a glance: what waits to be delivered, and the subscriptions whose
    // deliveries fail (or failed long enough to be disabled), with why. The backlog is the
    // gauges' own query (WebhookBacklogSql); the failing subscriptions are a few rows of a
    // small table.
    private string WebhooksCard(NpgsqlDataSource dataSource)
    {
        using var command = dataSource.CreateCommand($"""
            SELECT w.total, w.enabled, w.failing, b.events, b.oldest
            FROM (SELECT count(*) AS total, count(*) FILTER (WHERE enabled) AS enabled,
                         count(*) FILTER (WHERE failing_since IS NOT NULL OR (NOT enabled AND disabled_reason IS NOT NULL)) AS failing
                  FROM webhooks) w,
                 ({WebhookBacklogSql.Select}) b;

            SELECT w.id, w.url, w.enabled, w.failing_since, coalesce(w.disabled_reason, w.last_error),
                   (SELECT count(*) FROM webhook_events e WHERE e.webhook_id = w.id AND e.message_id IS NULL)
                   + coalesce((SELECT sum(m.event_count) FROM webhook_messages m WHERE m.webhook_id = w.id AND m.delivered_at IS NULL), 0)
            FROM webhooks w
            WHERE w.failing_since IS NOT NULL OR (NOT w.enabled AND w.disabled_reason IS NOT NULL)
            ORDER BY w.failing_since NULLS LAST, w.id
            LIMIT {Shown}
            """);
        using var reader = command.ExecuteReader();
        reader.Read();
        var (total, enabled, failing, pending) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
        DateTime? oldest = reader.IsDBNull(4) ? null : reader.GetDateTime(4);
        if (total == 0)
        {
            return """<div class="panel panel-default" id="webhooks"><div class="panel-heading">Webhooks</div>""" +
                   """<div class="panel-body">No webhook subscriptions (POST /api/webhooks adds one).</div></div>""";
        }

        var now = Context.GetHttpContext().RequestServices.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
        var waiting = oldest is { } at ? $" · the oldest has waited {Age(now - at)} (since {at:yyyy-MM-dd HH:mm:ss} UTC)" : "";
        var summary = $"""<p id="webhooks-pending">{total} subscriptions ({enabled} enabled, {failing} failing) · <b>{pending}</b> events pending{waiting}</p>""";
        reader.NextResult();
        if (!reader.HasRows)
            return $"""<div class="panel panel-success" id="webhooks"><div class="panel-heading">Webhooks</div><div class="panel-body">{summary}</div></div>""";

        // The URL is the subscriber's, the error the receiver's answer: both are encoded.
        var rows = new StringBuilder();
        while (reader.Read())
        {
            var state = reader.GetBoolean(2)
                ? """<span class="label label-warning">failing</span>"""
                : """<span class="label label-danger">disabled</span>""";
            rows.Append($"""
                <tr><td>{reader.GetInt64(0)}</td><td class="webhook-url">{WebUtility.HtmlEncode(reader.GetString(1))}</td><td>{state}</td>
                <td>{(reader.IsDBNull(3) ? "" : $"{reader.GetDateTime(3):yyyy-MM-dd HH:mm:ss}")}</td><td>{reader.GetInt64(5)}</td>
                <td class="webhook-error">{(reader.IsDBNull(4) ? "" : WebUtility.HtmlEncode(reader.GetString(4)))}</td></tr>
                """);
        }
        return $"""
            <div class="panel panel-danger" id="webhooks"><div class="panel-heading">Webhooks</div><div class="panel-body">{summary}
            <table class="table table-condensed" id="webhooks-failing">
            <thead><tr><th>Subscription</th><th>URL</th><th>State</th><th>Failing since (UTC)</th><th>Pending</th><th>Last error or disabled reason</th></tr></thead>
            <tbody>{rows}</tbody></table></div></div>
            """;
    }

    // "45 s", "12 min", "3 h 5 min", "2 d 4 h": how long the oldest event has waited.
    private static string Age(TimeSpan age) => age switch
    {
        { TotalSeconds: < 60 } => $"{Math.Max(0, (int)age.TotalSeconds)} s",
        { TotalMinutes: < 60 } => $"{(int)age.TotalMinutes} min",
        { TotalHours: < 24 } => $"{(int)age.TotalHours} h {age.Minutes} min",
        _ => $"{(int)age.TotalDays} d {age.Hours} h",
    };

    public override void Execute()
    {
        Layout = new LayoutPage("Syncs");
        var dataSource = Context.GetHttpContext().RequestServices.GetRequiredService<NpgsqlDataSource>();
        WriteLiteral($"""
            <div class="row"><div class="col-md-12">
            <h1 class="page-header">Syncs</h1>
            {ShopCard()}
            {WebhooksCard(dataSource)}
            <p>The newest {Shown} sync runs: automatic (after order writes and imports) and full (manual, scheduled, command line). Errors counts the customers a run could not write (listed below). Changes counts the run's changes per field, linked to the changes themselves; a dry run's are what it would have changed (it wrote nothing).</p>
            <div class="table-responsive"><table class="table table-striped" id="sync-runs">
            <thead><tr><th>Run</th><th>Job</th><th>Mode</th><th>Status</th><th>Started (UTC)</th>
            <th>Created</th><th>Updated</th><th>Unchanged</th><th>Skipped</th><th>Errors</th><th>Customers</th><th>Changes</th><th>Duration</th></tr></thead>
            <tbody>
            """);
        var runs = new List<RunRow>();
        using (var command = dataSource.CreateCommand($"""
            SELECT id, job_id, mode, status, started_at, created_count, updated_count, unchanged_count,
                   skipped_count, error_count, total_customers, duration_ms, error,
                   dry_run, changes::text, revert_job_id, reverted_at
            FROM sync_runs ORDER BY started_at DESC, id DESC LIMIT {Shown}
            """))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                runs.Add(new RunRow(reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetString(2),
                    reader.GetString(3), reader.GetDateTime(4), reader.GetInt32(5), reader.GetInt32(6), reader.GetInt32(7),
                    reader.GetInt32(8), reader.GetInt32(9), reader.GetInt32(10), reader.GetInt64(11),
                    reader.IsDBNull(12) ? null : reader.GetString(12), reader.GetBoolean(13),
                    reader.IsDBNull(14) ? null : JsonSerializer.Deserialize<Dictionary<string, int>>(reader.GetString(14)),
                    reader.IsDBNull(15) ? null : reader.GetString(15), reader.IsDBNull(16) ? null : reader.GetDateTime(16)));
            }
        }
        // Hangfire drops a succeeded job a day after it finished: link only the jobs it still has.
        var stored = new HashSet<string>();
        using (var command = SyncRuns.StoredJobIdsCommand(dataSource, runs.Select(r => r.JobId).Concat(runs.Select(r => r.RevertJobId))))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
                stored.Add(reader.GetString(0));
        }
        foreach (var run in runs)
        {
            var job = run.JobId switch
            {
                null => "command line",
                var id when stored.Contains(id) => $"<a href=\"{Url.JobDetails(id)}\">#{WebUtility.HtmlEncode(id)}</a>",
                var id => $"<span title=\"Hangfire no longer stores this job\">#{WebUtility.HtmlEncode(id)} (expired)</span>",
            };
            var error = run.Error is null ? "" : $" title=\"{WebUtility.HtmlEncode(run.Error)}\"";
            var dryRun = run.DryRun ? """ <span class="label label-info dry-run" title="Rolled back: it wrote nothing">dry run</span>""" : "";
            WriteLiteral($"""
                <tr><td>{run.Id}</td><td>{job}</td><td>{WebUtility.HtmlEncode(run.Mode)}{dryRun}</td>
                <td{error}>{WebUtility.HtmlEncode(run.Status)}{Reverted(run, stored)}</td><td>{run.StartedAt:yyyy-MM-dd HH:mm:ss}</td>
                <td>{run.Created}</td><td>{run.Updated}</td><td>{run.Unchanged}</td>
                <td>{run.Skipped}</td><td>{run.Errors}</td><td>{run.Customers}</td>
                <td>{Changes(run)}</td><td>{run.DurationMs} ms</td></tr>
                """);
        }
        WriteLiteral("</tbody></table></div>");
        WriteErrors(dataSource);
        WriteLiteral("</div></div>");
    }

    // A revert is recorded when it is enqueued (revert_job_id) and when it has finished (reverted_at).
    private string Reverted(RunRow run, HashSet<string> stored)
    {
        if (run.RevertJobId is not { } jobId)
            return "";
        var (text, style, title) = run.RevertedAt is { } at
            ? ("reverted", "label-warning", $"Reverted at {at:yyyy-MM-dd HH:mm:ss} (UTC) by job #{jobId}")
            : ("reverting", "label-default", $"Revert job #{jobId} has not finished");
        var label = $"""<span class="label {style} reverted" title="{WebUtility.HtmlEncode(title)}">{text}</span>""";
        return stored.Contains(jobId) ? $""" <a href="{Url.JobDetails(jobId)}">{label}</a>""" : " " + label;
    }

    // "created 3 · statistics 5", linked to the run's changes. A dry run's changes were rolled
    // back with it: there is nothing to link to.
    private string Changes(RunRow run)
    {
        var counts = run.Changes switch
        {
            null => "",
            { Count: 0 } => "none",
            var changes => string.Join(" · ", changes.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{WebUtility.HtmlEncode(c.Key)} {c.Value}")),
        };
        if (run.DryRun)
            return $"""<span class="sync-changes" title="What the dry run would have changed">{counts}</span>""";
        return $"""<a class="sync-changes" href="{Url.To(SyncChangesPage.PathOf(run.Id))}">{(counts == "" ? "changes" : counts)}</a>""";
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

    private sealed record RunRow(
        long Id, string? JobId, string Mode, string Status, DateTime StartedAt, int Created, int Updated, int Unchanged,
        int Skipped, int Errors, int Customers, long DurationMs, string? Error, bool DryRun,
        Dictionary<string, int>? Changes, string? RevertJobId, DateTime? RevertedAt);
}
