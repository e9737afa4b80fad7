using Crm.Jobs.Categories;
using Crm.Jobs.Data;
using Crm.Jobs.Ledger;
using Npgsql;
using NpgsqlTypes;

namespace Crm.Jobs.Sync;

// One transaction's statements, for its scope (BatchScope), with the parameters every sync
// statement may use: @now, @placeholder, @refused, @scope_phones, @scope_versions, a
// chunk's @lo and @hi, and the category thresholds (CategoryRules).
internal sealed class SyncBatch(
    NpgsqlConnection connection, NpgsqlTransaction transaction, SyncMode mode, long runId, DateTime now,
    string placeholder, CategoryOptions categories)
{
    public SyncMode Mode => mode;
    public long RunId => runId;

    // The phones the statements cover; a whole-table sync's until a step narrows it.
    public BatchScope Scope { get; set; } = BatchScope.EveryPhone;

    // A chunk of a full sync: the phones in [RangeLow, RangeHigh), as @lo and @hi.
    public string? RangeLow { get; set; }
    public string? RangeHigh { get; set; }

    // A small scope's phones with the request version the run saw (BatchScope.SmallScope).
    public string[] ScopePhones { get; set; } = [];
    public long?[] ScopeVersions { get; set; } = [];

    // Phones the database refused in this transaction, with their customer's id (null for a
    // customer not created yet) and the reason (FailureText).
    public List<(string Phone, long? CustomerId, string Error)> Refused { get; } = [];

    // A transaction that writes customers: it names itself to the ledger first.
    public static async Task<SyncBatch> BeginAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, SyncMode mode, long runId, DateTime now,
        SyncOptions sync, CategoryOptions categories, CancellationToken ct)
    {
        await ChangeLedger.BeginAsync(connection, transaction, ChangeLedger.SyncSource(mode), runId,
            CategoryRules.ThresholdsJson(categories, now), ct);
        return new SyncBatch(connection, transaction, mode, runId, now, sync.PlaceholderName, categories);
    }

    public NpgsqlCommand Command(string sql, BatchScope scope, params (string Name, object? Value)[] parameters)
    {
        var command = connection.Command(scope.Apply(sql), transaction, parameters);
        command.Parameters.AddWithValue("now", now);
        command.Parameters.AddWithValue("placeholder", placeholder);
        command.Parameters.AddWithValue("refused", Refused.Select(r => r.Phone).ToArray());
        command.Parameters.AddWithValue("scope_phones", ScopePhones);
        command.Parameters.AddWithValue("scope_versions", NpgsqlDbType.Array | NpgsqlDbType.Bigint, ScopeVersions);
        if (RangeLow is not null)
            command.Parameters.AddWithValue("lo", RangeLow);
        if (RangeHigh is not null)
            command.Parameters.AddWithValue("hi", RangeHigh);
        CategoryRules.AddParameters(command, categories, now);
        return command;
    }

    public Task<int> ExecuteAsync(string sql, CancellationToken ct, params (string Name, object? Value)[] parameters) =>
        ExecuteAsync(sql, Scope, ct, parameters);

    public async Task<int> ExecuteAsync(string sql, BatchScope scope, CancellationToken ct, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(sql, scope, parameters);
        return await command.ExecuteNonQueryAsync(ct);
    }

    public async Task<T> ScalarAsync<T>(string sql, CancellationToken ct, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(sql, Scope, parameters);
        return (T)(await command.ExecuteScalarAsync(ct))!;
    }

    public async Task<List<T>> QueryAsync<T>(
        string sql, Func<NpgsqlDataReader, T> map, CancellationToken ct, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(sql, Scope, parameters);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var rows = new List<T>();
        while (await reader.ReadAsync(ct))
            rows.Add(map(reader));
        return rows;
    }

    // The end of one of a run's transactions, past its last write: the run's changes per
    // field as the ledger has them so far. A dry run adds them (and its sample) up and rolls
    // back; a real run leaves the commit to the caller.
    public async Task<Dictionary<string, int>> EndAsync(SyncDryRun? dryRun, CancellationToken ct)
    {
        var changes = await ChangeLedger.CountRunChangesAsync(connection, transaction, runId, ct);
        if (dryRun is null)
            return changes;
        dryRun.Sample.AddRange(await ChangeLedger.SampleRunChangesAsync(
            connection, transaction, runId, SyncEngine.DryRunSampleSize - dryRun.Sample.Count, ct));
        await transaction.RollbackAsync(ct);
        foreach (var (field, count) in changes)
            dryRun.Changes[field] = dryRun.Changes.GetValueOrDefault(field) + count;
        return dryRun.Changes;
    }
}
