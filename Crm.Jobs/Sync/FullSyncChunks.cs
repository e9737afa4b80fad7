using System.Data;
using Crm.Jobs.Categories;
using Crm.Jobs.Data;
using Crm.Jobs.Ledger;
using Npgsql;

namespace Crm.Jobs.Sync;

// A full sync of a customers table that has rows. Phase 1 reads every order once,
// without a lock, into a session temp table (the same one-pass aggregate as a
// whole-table sync), together with the request versions of the same snapshot. Phase 2
// writes it in chunks of phones, each its own transaction holding the bulk lock for a
// moment: order writes meanwhile get their customers exact between two chunks. A chunk
// recomputes from the orders (under its lock, so from the newest data) every phone whose
// orders were written through the API since phase 1's snapshot (its request version
// moved): a per-customer run that committed meanwhile is never overwritten with older
// data. A crash between chunks leaves the committed chunks exact; the retried job
// redoes the run, and the chunks already written compare equal and write nothing.
internal sealed class FullSyncChunks(
    TimeProvider clock, SyncOptions syncOptions, CategoryOptions categoryOptions, SyncRunRecorder recorder, ErrorIsolation isolation)
{
    // Phase 1: session temp tables (it writes no customer), indexed and analysed for the chunks' range scans.
    private static readonly string PrepareSql = $"""
        DROP TABLE IF EXISTS full_source, full_versions;
        CREATE TEMP TABLE full_source AS {SyncSql.SourceOfAllOrdersSql};
        CREATE TEMP TABLE full_versions AS SELECT phone, version FROM customer_sync_requests;
        CREATE INDEX ON full_source (phone);
        CREATE INDEX ON full_versions (phone);
        ANALYZE full_source;
        ANALYZE full_versions;
        """;

    // The first phone of every chunk but the first: chunk i covers [bounds[i-1], bounds[i]).
    private const string BoundsSql = """
        SELECT phone FROM (SELECT phone, row_number() OVER (ORDER BY phone) AS n FROM full_source) numbered
        WHERE n % @chunk = 1 AND n > 1
        ORDER BY phone
        """;

    private const string DropSql = "DROP TABLE IF EXISTS full_source, full_versions";

    // A chunk's source: phase 1's rows, but the phones whose orders were written through the
    // API since the snapshot (sync_stale) are read again from the orders, with every other phone
    // of their customers. A customer's other phones may lie outside the chunk while its primary
    // phone is in it, so the moved requests of every other phone are looked at in each chunk
    // (as many as customer_phones has rows); a phone added to or removed from a customer since
    // phase 1 moved its own and its customer's requests (CustomerPhonesEndpoints).
    private static readonly string CreateChunkSourceSql = $$"""
        CREATE TEMP TABLE sync_stale ON COMMIT DROP AS
        WITH moved AS MATERIALIZED (
            SELECT r.phone FROM customer_sync_requests r
            LEFT JOIN full_versions v ON v.phone = r.phone AND {in_scope:v.phone}
            WHERE {in_scope:r.phone} AND r.version IS DISTINCT FROM v.version
            UNION
            SELECT r.phone FROM customer_phones cp
            JOIN customer_sync_requests r ON r.phone = cp.phone
            LEFT JOIN full_versions v ON v.phone = r.phone
            WHERE r.version IS DISTINCT FROM v.version
        )
        {{SyncSql.ExpandedSql("SELECT phone FROM moved")}};
        CREATE TEMP TABLE sync_source ON COMMIT DROP AS
        SELECT * FROM full_source f
        WHERE {in_scope:f.phone} AND NOT EXISTS (SELECT 1 FROM sync_stale st WHERE st.phone = f.phone);
        INSERT INTO sync_source {{BatchScope.Stale.Apply(SyncSql.SourceSql)}};
        """;

    public Task<SyncCounts> RunAsync(NpgsqlConnection connection, SyncMode mode, string? jobId, SyncDryRun? dryRun, CancellationToken ct) =>
        recorder.RecordAsync(connection, mode, jobId, dryRun, async (runId, stopwatch) =>
        {
            try
            {
                var (bounds, skipped) = await ReadAllOrdersAsync(connection, mode, runId, ct);

                int created = 0, updated = 0, unchanged = 0, total = 0, errors = 0;
                var refusedPhones = new List<(string Phone, long? CustomerId, string Error)>();
                for (var i = 0; i <= bounds.Count; i++)
                {
                    var lo = i == 0 ? null : bounds[i - 1];
                    var hi = i == bounds.Count ? null : bounds[i];
                    var chunk = await SyncChunkAsync(connection, mode, runId, lo, hi, dryRun, ct);
                    created += chunk.Counts.CreatedCount;
                    updated += chunk.Counts.UpdatedCount;
                    unchanged += chunk.Counts.UnchangedCount;
                    total += chunk.Counts.TotalCustomers;
                    errors += chunk.Counts.ErrorCount;
                    refusedPhones.AddRange(chunk.Refused);
                }

                var counts = new SyncCounts(created, updated, unchanged, skipped, errors, total, stopwatch.ElapsedMilliseconds);
                var changes = dryRun?.Changes ?? await ChangeLedger.CountRunChangesAsync(connection, null, runId, ct);
                await recorder.FinishAsync(runId, SyncRunStatus.Succeeded, counts, SyncRunRecorder.ErrorSummary(refusedPhones), changes, ct);
                return counts;
            }
            finally
            {
                if (connection.State == ConnectionState.Open)
                    await connection.ExecuteAsync(DropSql, CancellationToken.None);
            }
        }, ct);

    // Phase 1, in one snapshot: the chunks' bounds and the orders without a usable phone.
    private async Task<(List<string> Bounds, int Skipped)> ReadAllOrdersAsync(
        NpgsqlConnection connection, SyncMode mode, long runId, CancellationToken ct)
    {
        await using var snapshot = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
        var phase1 = new SyncBatch(connection, snapshot, mode, runId, clock.GetUtcNow().UtcDateTime,
            syncOptions.PlaceholderName, categoryOptions);
        await phase1.ExecuteAsync(SyncSql.BulkSettingsSql, ct);
        await phase1.ExecuteAsync(PrepareSql, ct);
        var chunkSize = Math.Max(1, syncOptions.FullSyncChunkSize);
        var bounds = await phase1.QueryAsync(BoundsSql, r => r.GetString(0), ct, ("chunk", (long)chunkSize));
        var skipped = await phase1.ScalarAsync<int>(SyncSql.SkippedOrdersSql, ct);
        await snapshot.CommitAsync(ct);
        return (bounds, skipped);
    }

    // One chunk of a full sync: the phones in [lo, hi) (null: unbounded), in its own transaction.
    private async Task<(SyncCounts Counts, IReadOnlyList<(string Phone, long? CustomerId, string Error)> Refused)> SyncChunkAsync(
        NpgsqlConnection connection, SyncMode mode, long runId, string? lo, string? hi, SyncDryRun? dryRun, CancellationToken ct)
    {
        await using var transaction = await connection.BeginTransactionAsync(ct);
        // The bulk lock, exclusively (SyncEngine.BulkLockKey).
        await connection.LockForTransactionAsync(transaction, SyncEngine.BulkLockKey, ct);
        var batch = await SyncBatch.BeginAsync(connection, transaction, mode, runId, clock.GetUtcNow().UtcDateTime,
            syncOptions, categoryOptions, ct);
        (batch.RangeLow, batch.RangeHigh) = (lo, hi);
        batch.Scope = BatchScope.Chunk(lo, hi);

        await batch.ExecuteAsync(CreateChunkSourceSql, ct);
        var (created, updated) = await isolation.ApplyAsync(batch, ct);
        var (total, _, refusedCustomers) = await SyncWrites.CountAsync(batch, countSkippedOrders: false, ct);
        if (dryRun is not null)
            await batch.EndAsync(dryRun, ct);
        else
            await transaction.CommitAsync(ct);
        var counts = new SyncCounts(created, updated, total - created - updated - refusedCustomers, 0, batch.Refused.Count, total, 0);
        return (counts, batch.Refused);
    }
}
