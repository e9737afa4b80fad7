using Crm.Jobs.Categories;
using Crm.Jobs.Data;
using Crm.Jobs.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Crm.Jobs.Sync;

// The sync rules of docs/SYNC-RULES.md as a handful of set-based statements (SyncSql),
// whatever the number of customers. This class runs them: which transactions, under which locks.
//
// - A scoped run (one customer, the pending writes) is one transaction (ScopedSync): it
//   commits whole or not at all, so a killed worker leaves nothing half-done and the
//   retried job produces the same result.
// - A full sync reads every order once, without a lock, then writes in chunks of phones,
//   each a short transaction of its own (FullSyncChunks): order writes meanwhile get their
//   customers exact between two chunks instead of after the whole run.
// - A phone whose row the database refuses (a value out of range, a check constraint) is
//   isolated by bisection, recorded in sync_errors and retried on its own later; the rest
//   of its batch commits (ErrorIsolation).
// - A bulk run into an empty customers table builds its secondary indexes after the
//   insert (DeferredIndexes); every run has a sync_runs row (SyncRunRecorder).
public sealed class SyncEngine
{
    // Bulk writes (a whole-table sync, a chunk of a full sync, pending batches, category
    // recalculation) hold this lock exclusively; per-customer runs hold it shared. So two
    // bulk writers never overlap, and a per-customer run never interleaves with a bulk
    // write and overwrites it with older data. Advisory locks die with their session: a
    // crashed holder cannot keep one (its session ends once its running statement
    // finishes, and its transaction rolls back).
    public const long BulkLockKey = AdvisoryLockKeys.Bulk;

    // Held for a full sync's whole run (a session lock: the run spans many transactions),
    // so two full syncs never interleave their chunks.
    public const long FullSyncLockKey = AdvisoryLockKeys.FullSync;

    // Past this many refused phones in one batch the cause is not the data of a few
    // customers (a broken constraint, a full disk): the batch fails and Hangfire retries it.
    public const int MaxIsolatedErrors = 1_000;

    // A dry run's sample holds this many changes.
    public const int DryRunSampleSize = 100;

    private readonly NpgsqlDataSource dataSource;
    private readonly TimeProvider clock;
    private readonly IOptions<SyncOptions> syncOptions;
    private readonly IOptions<CategoryOptions> categoryOptions;
    private readonly SyncRunRecorder recorder;
    private readonly ScopedSync scoped;
    private readonly FullSyncChunks chunks;

    public SyncEngine(
        [FromKeyedServices(CrmDataSources.Jobs)] NpgsqlDataSource dataSource,
        TimeProvider clock,
        IOptions<SyncOptions> syncOptions,
        IOptions<CategoryOptions> categoryOptions,
        CrmMetrics metrics,
        ILogger<SyncEngine> logger)
    {
        this.dataSource = dataSource;
        this.clock = clock;
        this.syncOptions = syncOptions;
        this.categoryOptions = categoryOptions;
        recorder = new SyncRunRecorder(dataSource, clock, metrics, logger);
        var isolation = new ErrorIsolation(metrics, logger);
        scoped = new ScopedSync(isolation);
        chunks = new FullSyncChunks(clock, syncOptions.Value, categoryOptions.Value, recorder, isolation);
    }

    public Task<SyncCounts> RunAsync(SyncMode mode, SyncScope scope, string? jobId, CancellationToken ct) =>
        RunAsync(mode, scope, jobId, dryRun: null, ct);

    // A full sync that runs exactly the real run's statements, transaction by transaction, and
    // rolls each back instead of committing: nothing of it is written but its sync_runs row.
    public async Task<SyncDryRunResult> DryRunAsync(SyncMode mode, string? jobId, CancellationToken ct)
    {
        var dryRun = new SyncDryRun();
        var counts = await RunAsync(mode, new SyncScope.All(), jobId, dryRun, ct);
        return new SyncDryRunResult(dryRun.RunId, true, counts.CreatedCount, counts.UpdatedCount, counts.UnchangedCount,
            counts.SkippedCount, counts.ErrorCount, counts.TotalCustomers, counts.DurationMs, dryRun.Changes, dryRun.Sample);
    }

    private async Task<SyncCounts> RunAsync(SyncMode mode, SyncScope scope, string? jobId, SyncDryRun? dryRun, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var counts = await RunOnAsync(connection, mode, scope, jobId, dryRun, ct);
        // A run that created or rewrote much of customers (the first sync, an import's batch)
        // leaves it analysed before the job reports success (TableStatistics).
        if (dryRun is null)
            await TableStatistics.AnalyzeIfManyChangedAsync(connection, "customers", counts.CreatedCount + counts.UpdatedCount, ct);
        return counts;
    }

    private async Task<SyncCounts> RunOnAsync(
        NpgsqlConnection connection, SyncMode mode, SyncScope scope, string? jobId, SyncDryRun? dryRun, CancellationToken ct)
    {
        if (scope is SyncScope.Phones)
            return await RunInOneTransactionAsync(connection, mode, scope, jobId, dryRun, ct);
        if (scope is SyncScope.Pending)
            return await DeferredIndexes.DeferringAsync(connection, mode,
                () => RunInOneTransactionAsync(connection, mode, scope, jobId, dryRun, ct), ct);

        await using (await connection.LockForSessionAsync(FullSyncLockKey, ct))
        {
            // The first sync into an empty customers table has nobody to keep fresh: one transaction.
            // A dry run leaves the indexes alone (dropping them is a write of its own).
            async Task<SyncCounts> Run() => await connection.ScalarAsync<bool>(SyncSql.CustomersEmptySql, ct)
                ? await RunInOneTransactionAsync(connection, mode, scope, jobId, dryRun, ct)
                : await chunks.RunAsync(connection, mode, jobId, dryRun, ct);
            return dryRun is null ? await DeferredIndexes.DeferringAsync(connection, mode, Run, ct) : await Run();
        }
    }

    // Scoped runs, and a full sync into an empty customers table.
    private async Task<SyncCounts> RunInOneTransactionAsync(
        NpgsqlConnection connection, SyncMode mode, SyncScope scope, string? jobId, SyncDryRun? dryRun, CancellationToken ct)
    {
        await using var transaction = await connection.BeginTransactionAsync(ct);
        scope = await LockAsync(connection, transaction, scope, ct);
        // From here on a new order write queues a new job: this run may already be past it.
        if (scope is SyncScope.Pending)
            await SyncScheduler.ReleaseDispatchClaimAsync(dataSource, ct);

        // The run starts once it holds its lock, so runs of one kind never overlap in sync_runs.
        return await recorder.RecordAsync(connection, mode, jobId, dryRun, async (runId, stopwatch) =>
        {
            var batch = await SyncBatch.BeginAsync(connection, transaction, mode, runId, clock.GetUtcNow().UtcDateTime,
                syncOptions.Value, categoryOptions.Value, ct);
            var counts = await scoped.RunAsync(batch, scope, stopwatch, ct);
            var changes = await batch.EndAsync(dryRun, ct);
            var error = SyncRunRecorder.ErrorSummary(batch.Refused);
            if (dryRun is not null)
            {
                await recorder.FinishAsync(runId, SyncRunStatus.Succeeded, counts, error, changes, ct);
                return counts;
            }
            // Recorded inside the transaction: the run row says succeeded exactly when the sync committed,
            // and it finished before the lock passes to the next run.
            await recorder.FinishAsync(runId, SyncRunStatus.Succeeded, counts, error, changes, ct, transaction);
            await transaction.CommitAsync(ct);
            return counts;
        }, ct);
    }

    // Serialise against other runs (see BulkLockKey), and per customer. A scope of phones comes
    // back with every other phone of their customers (SyncSql.LockPhonesSql).
    private static async Task<SyncScope> LockAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, SyncScope scope, CancellationToken ct)
    {
        if (scope is not SyncScope.Phones phones)
        {
            await connection.LockForTransactionAsync(transaction, BulkLockKey, ct);
            return scope;
        }
        await using var command = connection.Command(SyncSql.LockPhonesSql, transaction,
            ("bulk_lock", BulkLockKey), ("phones", phones.Values.Distinct().ToArray()));
        await using var reader = await command.ExecuteReaderAsync(ct);
        // The first statement's row is the bulk lock's; the second's rows are the phones.
        await reader.NextResultAsync(ct);
        var locked = new List<string>();
        while (await reader.ReadAsync(ct))
            locked.Add(reader.GetString(0));
        return new SyncScope.Phones(locked);
    }
}
