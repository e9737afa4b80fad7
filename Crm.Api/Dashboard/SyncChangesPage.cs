using System.Net;
using System.Text.Json;
using Crm.Api.Sync;
using Crm.Jobs.Data;
using Hangfire.Dashboard;
using Hangfire.Dashboard.Pages;

namespace Crm.Api.Dashboard;

// One sync run's changes as the ledger holds them (what GET /api/sync/runs/{id}/changes
// lists), in the order they were written, a page at a time, all fields or one.
public sealed class SyncChangesPage(long runId) : RazorPage
{
    // At most 18 digits, so the id always fits a long.
    public const string Route = SyncsPage.Path + @"/(?<run>\d{1,18})/changes";
    private const int Shown = 100;

    public static string PathOf(long runId) => $"{SyncsPage.Path}/{runId}/changes";

    public override void Execute()
    {
        Layout = new LayoutPage($"Sync run {runId}: changes");
        var queries = Context.GetHttpContext().RequestServices.GetRequiredService<SyncQueries>();
        var field = string.IsNullOrEmpty(Query("field")) ? null : Query("field");
        // Pages follow the change ids (keyset): the next page starts after the last id shown.
        var after = long.TryParse(Query("after"), out var id) && id > 0 ? id : 0;

        WriteLiteral($"""
            <div class="row"><div class="col-md-12">
            <h1 class="page-header">Sync run {runId}: changes</h1>
            <p><a href="{Url.To(SyncsPage.Path)}">All sync runs</a></p>
            """);
        if (!WriteSummary(queries, field))
        {
            Context.Response.StatusCode = StatusCodes.Status404NotFound;
            WriteLiteral($"""<p id="sync-run-missing">Sync run {runId} does not exist (or was pruned with its changes).</p></div></div>""");
            return;
        }
        WriteChanges(queries, field, after);
        WriteLiteral("</div></div>");
    }

    // The run's mode and status, and its counts per field as filters; false for no such run.
    // Hangfire renders its pages synchronously: the shared asynchronous reads are waited for.
    private bool WriteSummary(SyncQueries queries, string? field)
    {
        if (queries.RunAsync(runId, CancellationToken.None).GetAwaiter().GetResult() is not { } run)
            return false;
        var counts = queries.ChangeCountsAsync(run, CancellationToken.None).GetAwaiter().GetResult();
        var notes = new List<string>();
        if (run.DryRun)
            notes.Add("""<span class="label label-info dry-run">dry run</span> Its changes were rolled back with it: the counts are what it would have changed.""");
        if (run.RevertJobId is { } revertJobId)
        {
            notes.Add(run.RevertedAt is { } revertedAt
                ? $"""<span class="label label-warning reverted">reverted</span> By job #{WebUtility.HtmlEncode(revertJobId)} at {Time.Format(revertedAt)} ({Time.ZoneName}). Its changes are listed with the run's (source revert)."""
                : $"""<span class="label label-default reverted">reverting</span> Revert job #{WebUtility.HtmlEncode(revertJobId)} has not finished.""");
        }
        WriteLiteral($"""
            <p>Mode {WebUtility.HtmlEncode(EnumText.ToText(run.Mode))} · {WebUtility.HtmlEncode(EnumText.ToText(run.Status))} · started {Time.Format(run.StartedAt)} ({Time.ZoneName})</p>
            {string.Concat(notes.Select(n => $"<p>{n}</p>"))}
            <ul class="nav nav-pills" id="sync-change-fields">{Filter(null, "all", counts.Values.Sum(), field)}
            {string.Concat(counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => Filter(c.Key, c.Key, c.Value, field)))}</ul>
            """);
        return true;
    }

    private string Filter(string? value, string text, int count, string? current)
    {
        var href = Url.To(PathOf(runId)) + (value is null ? "" : "?field=" + Uri.EscapeDataString(value));
        var active = value == current ? " class=\"active\"" : "";
        return $"""<li{active}><a href="{href}">{WebUtility.HtmlEncode(text)} <span class="badge">{count}</span></a></li>""";
    }

    private void WriteChanges(SyncQueries queries, string? field, long after)
    {
        // One row more than shown tells whether there is a next page.
        var changes = queries.ChangesAfterAsync(runId, field, after, Shown + 1, CancellationToken.None).GetAwaiter().GetResult();
        if (changes.Count == 0)
        {
            WriteLiteral("""<p id="sync-changes-none">No changes here.</p>""");
            return;
        }
        WriteLiteral($$"""
            <div class="table-responsive"><table class="table table-striped" id="sync-changes">
            <thead><tr><th>Change</th><th>Customer</th><th>Field</th><th>From</th><th>To</th><th>At ({{Time.ZoneName}})</th><th>Source</th></tr></thead>
            <tbody>
            """);
        foreach (var change in changes.Take(Shown))
        {
            after = change.Id;
            WriteLiteral($"""
                <tr><td>{change.Id}</td><td>{change.CustomerId}</td><td>{WebUtility.HtmlEncode(change.Field)}</td>
                {Values(change)}<td>{Time.Format(change.At)}</td>
                <td>{WebUtility.HtmlEncode(change.Source)}</td></tr>
                """);
        }
        WriteLiteral("</tbody></table></div>");
        if (changes.Count > Shown)
        {
            var query = "?after=" + after + (field is null ? "" : "&field=" + Uri.EscapeDataString(field));
            WriteLiteral($"""<p><a class="btn btn-default" id="sync-changes-next" href="{Url.To(PathOf(runId)) + query}">Next {Shown}</a></p>""");
        }
    }

    private DashboardTime Time => Context.GetHttpContext().RequestServices.GetRequiredService<DashboardTime>();

    // The From and To cells; a redacted change says so across both (an empty cell reads as "no value").
    private static string Values(RunChangeResponse change) => change.Redacted
        ? """<td colspan="2" class="redacted"><em>redacted</em></td>"""
        : $"<td>{Value(change.From)}</td><td>{Value(change.To)}</td>";

    // A text value as the text itself; numbers, objects (statistics, a created customer) as JSON.
    private static string Value(JsonElement? value) => value is not { } json
        ? ""
        : WebUtility.HtmlEncode(json.ValueKind == JsonValueKind.String ? json.GetString() ?? "" : json.GetRawText());
}
