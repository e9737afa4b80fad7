using System.Net;
using System.Text;
using System.Text.Json;
using Crm.Api.Auth;
using Crm.Api.Shop;
using Crm.Api.Sync;
using Crm.Api.Webhooks;
using Crm.Jobs.Data;
using Crm.Jobs.Shop;
using Hangfire.Dashboard;
using Hangfire.Dashboard.Pages;

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

    // The follower of the shop's database (GET /api/shop in a panel).
    private string ShopCard()
    {
        var shop = Service<ShopQueries>().FollowerAsync(CancellationToken.None).GetAwaiter().GetResult();
        var state = EnumText.ToText(shop.State);
        var style = shop.State switch
        {
            ShopFollowerStatus.Following when shop.Warnings.Count > 0 => "panel-warning",
            ShopFollowerStatus.Following => "panel-success",
            ShopFollowerStatus.Snapshotting or ShopFollowerStatus.Disabled => "panel-default",
            _ => "panel-danger",
        };
        // The WAL the slot keeps on the shop's server, whatever the state (the shop's disk).
        var kept = shop.RetainedWalBytes is { } retained
            ? $" · the slot keeps {ByteSize.Format(retained)} of the shop's WAL (limit {(shop.MaxSlotWalKeepSize is { } keep and >= 0 ? ByteSize.Format(keep) : "none")})"
            : "";
        var warnings = shop.Warnings.Count == 0
            ? ""
            : $"""<ul id="shop-wal-warnings">{string.Concat(shop.Warnings.Select(w => $"<li>{WebUtility.HtmlEncode(w)}</li>"))}</ul>""";
        var body = shop.State == ShopFollowerStatus.Disabled
            ? "Not following the shop's database (Crm:Shop:ConnectionString is not set)."
            : $"State <b>{state}</b> · snapshot {Plural.Of(shop.SnapshotRows, "row")} · {Plural.Of(shop.OrdersApplied, "change")} applied · " +
              $"{shop.Rejected} rejected · lag {(shop.LagBytes is { } lag ? Plural.Of(lag, "byte") : "? bytes")} · last applied " +
              $"{Time.Format(shop.LastAppliedAt, "never")} ({Time.ZoneName}){kept}" +
              (shop.Error is null ? "" : $"<br>{WebUtility.HtmlEncode(shop.Error)}") + warnings;
        return $"""<div class="panel {style}" id="shop-follower"><div class="panel-heading">Shop</div><div class="panel-body">{body}</div></div>""";
    }

    // The webhook outbox at a glance: what waits to be delivered, and the subscriptions whose
    // deliveries fail (or failed long enough to be disabled), with why.
    private string WebhooksCard()
    {
        var overview = Service<WebhookQueries>().OverviewAsync(Shown, CancellationToken.None).GetAwaiter().GetResult();
        if (overview.Subscriptions == 0)
        {
            return """<div class="panel panel-default" id="webhooks"><div class="panel-heading">Webhooks</div>""" +
                   """<div class="panel-body">No webhook subscriptions (POST /api/webhooks adds one).</div></div>""";
        }

        var now = Service<TimeProvider>().GetUtcNow().UtcDateTime;
        var waiting = overview.OldestPendingAt is { } at ? $" · the oldest has waited {Age(now - at)} (since {Time.Format(at)} {Time.ZoneName})" : "";
        var summary = $"""<p id="webhooks-pending">{Plural.Of(overview.Subscriptions, "subscription")} ({overview.Enabled} enabled, {overview.Failing} failing) · <b>{overview.PendingEvents}</b> {Plural.Word(overview.PendingEvents, "event")} pending{waiting}</p>""";
        if (overview.FailingSubscriptions.Count == 0)
            return $"""<div class="panel panel-success" id="webhooks"><div class="panel-heading">Webhooks</div><div class="panel-body">{summary}</div></div>""";

        // A URL may carry a capability token, and /api/webhooks is admin-only: other keys see
        // a subscription's id and host, not its path, query or the receiver's answer.
        var admin = Context.GetHttpContext().User.IsInRole(CrmRoles.Admin);
        var rows = new StringBuilder();
        foreach (var hook in overview.FailingSubscriptions)
        {
            var state = hook.Enabled
                ? """<span class="label label-warning">failing</span>"""
                : """<span class="label label-danger">disabled</span>""";
            // The URL is the subscriber's, the error the receiver's answer: both are encoded.
            var address = admin ? hook.Url : Uri.TryCreate(hook.Url, UriKind.Absolute, out var uri) ? uri.Host : "";
            var error = admin ? $"""<td class="webhook-error">{WebUtility.HtmlEncode(hook.DisabledReason ?? hook.LastError ?? "")}</td>""" : "";
            rows.Append($"""
                <tr><td>{hook.Id}</td><td class="webhook-url">{WebUtility.HtmlEncode(address)}</td><td>{state}</td>
                <td>{Time.Format(hook.FailingSince, "")}</td><td>{hook.PendingEvents}</td>{error}</tr>
                """);
        }
        var headings = admin
            ? $"<th>URL</th><th>State</th><th>Failing since ({Time.ZoneName})</th><th>Pending</th><th>Last error or disabled reason</th>"
            : $"<th>Host</th><th>State</th><th>Failing since ({Time.ZoneName})</th><th>Pending</th>";
        var note = admin ? "" : """<p id="webhooks-admin-only">The URLs and the receivers' answers are shown to admin keys only: a URL may carry a capability token.</p>""";
        return $"""
            <div class="panel panel-danger" id="webhooks"><div class="panel-heading">Webhooks</div><div class="panel-body">{summary}
            <table class="table table-condensed" id="webhooks-failing">
            <thead><tr><th>Subscription</th>{headings}</tr></thead>
            <tbody>{rows}</tbody></table>{note}</div></div>
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
        WriteLiteral($"""
            <div class="row"><div class="col-md-12">
            <h1 class="page-header">Syncs</h1>
            {ShopCard()}
            {WebhooksCard()}
            {Pictures()}
            <p>The newest {Shown} sync runs: automatic (after order writes and imports) and full (manual, scheduled, command line). Errors counts the customers a run could not write (listed below). Changes counts the run's changes per field, linked to the changes themselves; a dry run's are what it would have changed (it wrote nothing).</p>
            <div class="table-responsive"><table class="table table-striped" id="sync-runs">
            <thead><tr><th>Run</th><th>Job</th><th>Mode</th><th>Status</th><th>Started ({Time.ZoneName})</th>
            <th>Created</th><th>Updated</th><th>Unchanged</th><th>Skipped</th><th>Errors</th><th>Customers</th><th>Changes</th><th>Duration</th></tr></thead>
            <tbody>
            """);
        var (runs, stored) = Service<SyncQueries>().NewestRunsAsync(Shown, CancellationToken.None).GetAwaiter().GetResult();
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
                <tr><td>{run.Id}</td><td>{job}</td><td>{WebUtility.HtmlEncode(EnumText.ToText(run.Mode))}{dryRun}</td>
                <td{error}>{WebUtility.HtmlEncode(EnumText.ToText(run.Status))}{Reverted(run, stored)}</td><td>{Time.Format(run.StartedAt)}</td>
                <td>{run.CreatedCount}</td><td>{run.UpdatedCount}</td><td>{run.UnchangedCount}</td>
                <td>{run.SkippedCount}</td><td>{run.ErrorCount}</td><td>{run.TotalCustomers}</td>
                <td>{Changes(run)}</td><td>{run.DurationMs} ms</td></tr>
                """);
        }
        WriteLiteral("</tbody></table></div>");
        WriteErrors();
        WriteLiteral("</div></div>");
    }

    // A revert is recorded when it is enqueued (revert_job_id) and when it has finished (reverted_at).
    private string Reverted(SyncRunResponse run, IReadOnlySet<string> stored)
    {
        if (run.RevertJobId is not { } jobId)
            return "";
        var (text, style, title) = run.RevertedAt is { } at
            ? ("reverted", "label-warning", $"Reverted at {Time.Format(at)} ({Time.ZoneName}) by job #{jobId}")
            : ("reverting", "label-default", $"Revert job #{jobId} has not finished");
        var label = $"""<span class="label {style} reverted" title="{WebUtility.HtmlEncode(title)}">{text}</span>""";
        return stored.Contains(jobId) ? $""" <a href="{Url.JobDetails(jobId)}">{label}</a>""" : " " + label;
    }

    // "created 3 · statistics 5", linked to the run's changes. A dry run's changes were rolled
    // back with it: there is nothing to link to.
    private string Changes(SyncRunResponse run)
    {
        var counts = run.Changes?.Deserialize<Dictionary<string, int>>() switch
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
    private void WriteErrors()
    {
        var errors = Service<SyncQueries>().NewestErrorsAsync(Shown, CancellationToken.None).GetAwaiter().GetResult();
        if (errors.Count == 0)
        {
            WriteLiteral("<h3>Customers not written</h3><p id=\"sync-errors-none\">None: every customer the syncs saw was written.</p>");
            return;
        }
        WriteLiteral($$"""
            <h3>Customers not written</h3>
            <p>The database refused these customers' rows; their syncs skipped them and committed the rest. Each is retried on its own at its retry time, and at once after a new write of its orders.</p>
            <div class="table-responsive"><table class="table table-striped" id="sync-errors">
            <thead><tr><th>Phone</th><th>SQLSTATE</th><th>Error</th><th>Last run</th><th>Attempts</th><th>Last failed ({{Time.ZoneName}})</th><th>Retry at ({{Time.ZoneName}})</th></tr></thead>
            <tbody>
            """);
        foreach (var e in errors)
        {
            WriteLiteral($"""
                <tr><td>{WebUtility.HtmlEncode(e.Phone)}</td><td>{WebUtility.HtmlEncode(e.SqlState)}</td>
                <td>{WebUtility.HtmlEncode(e.Error)}</td><td>{e.RunId}</td>
                <td>{e.Attempts}</td><td>{Time.Format(e.LastFailedAt)}</td><td>{Time.Format(e.RetryAt)}</td></tr>
                """);
        }
        WriteLiteral("</tbody></table></div>");
    }

    // The four pictures (DashboardPictures), two a row.
    private string Pictures()
    {
        var services = Context.GetHttpContext().RequestServices;
        string Cell(string heading, string svg) => $"""<div class="col-md-6"><h4>{heading}</h4>{svg}</div>""";
        return $"""
            <div class="row" id="sync-pictures">
            {Cell("Sync run durations", DashboardPictures.SyncRunDurations(services))}
            {Cell("Write → exact", DashboardPictures.WriteToExact(services))}
            </div><div class="row">
            {Cell("Webhook backlog", DashboardPictures.WebhookBacklog(services))}
            {Cell("Customers per category", DashboardPictures.CustomersPerCategory(services))}
            </div>
            """;
    }

    private DashboardTime Time => Service<DashboardTime>();

    // Hangfire renders its pages synchronously: the shared asynchronous reads are waited for.
    private T Service<T>() where T : notnull => Context.GetHttpContext().RequestServices.GetRequiredService<T>();
}
