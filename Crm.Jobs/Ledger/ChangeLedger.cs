using System.Text.Json;
using Crm.Jobs.Data;
using Crm.Jobs.Sync;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Crm.Jobs.Ledger;

// The writer's side of the ledger: every transaction that changes customers first names its
// source (and run) here; the trigger on customers (migration ChangeLedger) writes the rows.
public static class ChangeLedger
{
    public const string Recalculate = "recalculate";
    public const string Revert = "revert";

    public static string SyncSource(SyncMode mode) => "sync:" + EnumText.ToText(mode);

    // The caller's name: its API key's, or the development caller's (Crm.Api's Caller.NameOf).
    public static string ApiSource(string callerName) => "api:" + callerName;

    // Transaction-local (set_config(..., true)): they end with the transaction, so a pooled
    // connection never carries one writer's name into the next.
    private const string BeginSql = """
        SELECT set_config('crm.change_source', @change_source, true),
               set_config('crm.run_id', @change_run, true),
               set_config('crm.category_thresholds', @category_thresholds, true)
        """;

    public static async Task BeginAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string source, long? runId, string? categoryThresholds, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(BeginSql, connection, transaction);
        command.Parameters.AddRange(Parameters(source, runId, categoryThresholds));
        await command.ExecuteNonQueryAsync(ct);
    }

    // For EF Core writes: inside the caller's transaction (a setting outside one would last for
    // a single statement).
    public static Task BeginAsync(CrmDbContext db, string source, CancellationToken ct)
    {
        if (db.Database.CurrentTransaction is null)
            throw new InvalidOperationException("The change source is set inside the transaction of the change.");
        return db.Database.ExecuteSqlRawAsync(BeginSql, Parameters(source, null, null), ct);
    }

    private static NpgsqlParameter[] Parameters(string source, long? runId, string? categoryThresholds) =>
    [
        new("change_source", source),
        new("change_run", runId?.ToString() ?? ""),
        new("category_thresholds", categoryThresholds ?? ""),
    ];

    // Changes per field of a run, as its ledger holds them (inside the run's transaction for
    // a dry run, before it rolls back). An index range scan of the run's rows.
    public static async Task<Dictionary<string, int>> CountRunChangesAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, long runId, CancellationToken ct)
    {
        var counts = new Dictionary<string, int>();
        await using var command = new NpgsqlCommand(
            "SELECT field, count(*)::int FROM customer_changes WHERE run_id = @run_id GROUP BY field ORDER BY field",
            connection, transaction)
        { CommandTimeout = 0 };
        command.Parameters.AddWithValue("run_id", runId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            counts[reader.GetString(0)] = reader.GetInt32(1);
        return counts;
    }

    // The first `limit` changes of a run, in the order they were written, without the values
    // of personal fields (ChangeSample).
    public static async Task<List<ChangeSample>> SampleRunChangesAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, long runId, int limit, CancellationToken ct)
    {
        var sample = new List<ChangeSample>();
        if (limit <= 0)
            return sample;
        await using var command = new NpgsqlCommand("""
            SELECT customer_id, field,
                   CASE WHEN field = ANY(@personal) THEN NULL ELSE old_value::text END,
                   CASE WHEN field = ANY(@personal) THEN NULL ELSE new_value::text END
            FROM customer_changes
            WHERE run_id = @run_id
            ORDER BY id
            LIMIT @limit
            """, connection, transaction);
        command.Parameters.AddWithValue("run_id", runId);
        command.Parameters.AddWithValue("limit", limit);
        command.Parameters.AddWithValue("personal", CustomerChange.PersonalFields);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            sample.Add(new ChangeSample(reader.GetInt64(0), reader.GetString(1), Json(reader, 2), Json(reader, 3)));
        return sample;
    }

    public static JsonElement? Json(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : JsonDocument.Parse(reader.GetString(ordinal)).RootElement.Clone();

    public static JsonElement? Json(string? json) =>
        json is null ? null : JsonDocument.Parse(json).RootElement.Clone();
}
