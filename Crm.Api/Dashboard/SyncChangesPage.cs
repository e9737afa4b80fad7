using System.Net;
using System.Text.Json;
using Hangfire.Dashboard;
using Hangfire.Dashboard.Pages;
using Npgsql;

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
        var dataSource = Context.GetHttpContext().RequestServices.GetRequiredService<NpgsqlDataSource>();
        var field = string.IsNullOrEmpty(Query("field")) ? null : Query("field");
        // Pages follow the change ids (keyset): the next page starts after the last id shown.
        var after = long.TryParse(Query("after"), out var id) && id > 0 ? id : 0;

        WriteLiteral($"""
            <div class="row"><div class="col-md-12">
            <h1 class="page-header">Sync run {runId}: changes</h1>
            <p><a href="{Url.To(SyncsPage.Path)}">All sync runs</a></p>
            """);
        if (!WriteSummary(dataSource, field))
        {
            Context.Response.StatusCode = StatusCodes.Status404NotFound;
            WriteLiteral($"""<p id="sync-run-missing">Sync run {runId} does not exist (or was pruned with its changes).</p></div></div>""");
            return;
        }
        WriteChanges(dataSource, field, after);
        WriteLiteral("</div></div>");
    }

    // The run's mode and status, and its counts per field as filters; false for no such run.
    private bool WriteSummary(NpgsqlDataSource dataSource, string? field)
    {
        using var command = dataSource.CreateCommand(
            "SELECT mode, status, started_at, dry_run, changes::text, revert_job_id, reverted_at FROM sync_runs WHERE id = @id");
        command.Parameters.AddWithValue("id", runId);
        using var reader = command.ExecuteReader();
        if (!reader.Read())
            return false;
        var counts = reader.IsDBNull(4) ? [] : JsonSerializer.Deserialize<Dictionary<string, int>>(reader.GetString(4))!;
        var notes = new List<string>();
        if (reader.GetBoolean(3))
            notes.Add("""<span class="label label-info dry-run">dry run</span> Its changes were rolled back with it: the counts are what it would have changed.""");
        if (!reader.IsDBNull(5))
        {
            notes.Add(reader.IsDBNull(6)
                ? $"""<span class="label label-default reverted">reverting</span> Revert job #{WebUtility.HtmlEncode(reader.GetString(5))} has not finished."""
                : $"""<span class="label label-warning reverted">reverted</span> By job #{WebUtility.HtmlEncode(reader.GetString(5))} at {reader.GetDateTime(6):yyyy-MM-dd HH:mm:ss} (UTC).""");
        }
        WriteLiteral($"""
            <p>Mode {WebUtility.HtmlEncode(reader.GetString(0))} · {WebUtility.HtmlEncode(reader.GetString(1))} · started {reader.GetDateTime(2):yyyy-MM-dd HH:mm:ss} (UTC)</p>
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

    private void WriteChanges(NpgsqlDataSource dataSource, string? field, long after)
    {
        using var command = dataSource.CreateCommand($"""
            SELECT id, customer_id, field, old_value::text, new_value::text, changed_at, source
            FROM customer_changes
            WHERE run_id = @run_id AND id > @after{(field is null ? "" : " AND field = @field")}
            ORDER BY id LIMIT {Shown + 1}
            """);
        command.Parameters.AddWithValue("run_id", runId);
        command.Parameters.AddWithValue("after", after);
        if (field is not null)
            command.Parameters.AddWithValue("field", field);
        using var reader = command.ExecuteReader();
        if (!reader.HasRows)
        {
            WriteLiteral("""<p id="sync-changes-none">No changes here.</p>""");
            return;
        }
        WriteLiteral("""
            <div class="table-responsive"><table class="table table-striped" id="sync-changes">
            <thead><tr><th>Change</th><th>Customer</th><th>Field</th><th>From</th><th>To</th><th>At (UTC)</th><th>Source</th></tr></thead>
            <tbody>
            """);
        // One row more than shown tells whether there is a next page.
        var rows = 0;
        while (reader.Read() && ++rows <= Shown)
        {
            after = reader.GetInt64(0);
            WriteLiteral($"""
                <tr><td>{after}</td><td>{reader.GetInt64(1)}</td><td>{WebUtility.HtmlEncode(reader.GetString(2))}</td>
                <td>{Value(reader, 3)}</td><td>{Value(reader, 4)}</td><td>{reader.GetDateTime(5):yyyy-MM-dd HH:mm:ss}</td>
                <td>{WebUtility.HtmlEncode(reader.GetString(6))}</td></tr>
                """);
        }
        WriteLiteral("</tbody></table></div>");
        if (rows > Shown)
        {
            var query = "?after=" + after + (field is null ? "" : "&field=" + Uri.EscapeDataString(field));
            WriteLiteral($"""<p><a class="btn btn-default" id="sync-changes-next" href="{Url.To(PathOf(runId)) + query}">Next {Shown}</a></p>""");
        }
    }

    // A text value as the text itself; numbers, objects (statistics, a created customer) as JSON.
    private static string Value(NpgsqlDataReader reader, int ordinal)
    {
        if (reader.IsDBNull(ordinal))
            return "";
        using var json = JsonDocument.Parse(reader.GetString(ordinal));
        return WebUtility.HtmlEncode(json.RootElement.ValueKind == JsonValueKind.String ? json.RootElement.GetString() ?? "" : json.RootElement.GetRawText());
    }
}
