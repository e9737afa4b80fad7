using System.Data;
using System.Diagnostics;
using Crm.Jobs.Categories;
using Crm.Jobs.Data;
using Crm.Jobs.Hosting;
using Crm.Jobs.Ledger;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Crm.Jobs.Sync;

// Which customers a sync run covers.
public abstract record SyncScope
{
    // Every phone in the orders, and every customer.
    public sealed record All : SyncScope;

    // The customers of these phones.
    public sealed record Phones(IReadOnlyList<string> Values) : SyncScope;

    // The customers whose auto-sync requests no finished sync has seen yet (bulk imports, the sweeper).
    public sealed record Pending : SyncScope;

    public static SyncScope Of(string phone) => new Phones([phone]);
}

public sealed record SyncCounts(
    int CreatedCount, int UpdatedCount, int UnchangedCount, int SkippedCount, int ErrorCount,
    int TotalCustomers, long DurationMs);

// A dry run's result: the counts the real run would report, its changes per ledger field,
// and its first changes.
public sealed record SyncDryRunResult(
    long RunId, bool DryRun, int CreatedCount, int UpdatedCount, int UnchangedCount, int SkippedCount, int ErrorCount,
    int TotalCustomers, long DurationMs, IReadOnlyDictionary<string, int> Changes, IReadOnlyList<ChangeSample> Sample);

// The seed's sync rules (SPEC §3) as a handful of set-based statements, whatever the number
// of customers.
//
// - A scoped run (one customer, the pending writes) is one transaction: it commits whole
//   or not at all, so a killed worker leaves nothing half-done and the retried job
//   produces the same result.
// - A full sync reads every order once, without a lock, then writes in chunks of phones,
//   each a short transaction of its own (see FullSyncInChunksAsync): order writes meanwhile
//   get their customers exact between two chunks instead of after the whole run.
// - A phone whose row the database refuses (a value out of range, a check constraint) is
//   isolated by bisection, recorded in sync_errors and retried on its own later; the rest
//   of its batch commits (see ApplyIsolatingAsync).
public sealed class SyncEngine(
    [FromKeyedServices(CrmDataSources.Jobs)] NpgsqlDataSource dataSource,
    TimeProvider clock,
    IOptions<SyncOptions> syncOptions,
    IOptions<CategoryOptions> categoryOptions,
    CrmMetrics metrics,
    ILogger<SyncEngine> logger)
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

    // Taken by the transactions that drop and rebuild the deferred indexes of customers.
    private const long IndexLockKey = AdvisoryLockKeys.DeferredIndexes;

    // Scopes above this many phones are planned as bulk work (hash joins over whole tables).
    private const int LargeScope = 5_000;

    // Past this many refused phones in one batch the cause is not the data of a few
    // customers (a broken constraint, a full disk): the batch fails and Hangfire retries it.
    public const int MaxIsolatedErrors = 1_000;

    // A dry run's sample holds this many changes.
    public const int DryRunSampleSize = 100;

    public Task<SyncCounts> RunAsync(SyncMode mode, SyncScope scope, string? jobId, CancellationToken ct) =>
        RunAsync(mode, scope, jobId, dryRun: null, ct);

    // A full sync that runs exactly the real run's statements, transaction by transaction, and
    // rolls each back instead of committing: nothing of it is written but its sync_runs row.
    public async Task<SyncDryRunResult> DryRunAsync(SyncMode mode, string? jobId, CancellationToken ct)
    {
        var dryRun = new DryRun();
        var counts = await RunAsync(mode, new SyncScope.All(), jobId, dryRun, ct);
        return new SyncDryRunResult(dryRun.RunId, true, counts.CreatedCount, counts.UpdatedCount, counts.UnchangedCount,
            counts.SkippedCount, counts.ErrorCount, counts.TotalCustomers, counts.DurationMs, dryRun.Changes, dryRun.Sample);
    }

    // What a dry run's transactions saw in the ledger before they rolled back.
    private sealed class DryRun
    {
        public long RunId { get; set; }
        public Dictionary<string, int> Changes { get; } = [];
        public List<ChangeSample> Sample { get; } = [];
    }

    private async Task<SyncCounts> RunAsync(SyncMode mode, SyncScope scope, string? jobId, DryRun? dryRun, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        if (scope is SyncScope.Phones)
            return await RunInOneTransactionAsync(connection, mode, scope, jobId, dryRun, ct);
        if (scope is SyncScope.Pending)
            return await DeferringIndexesAsync(connection, mode,
                () => RunInOneTransactionAsync(connection, mode, scope, jobId, dryRun, ct), ct);

        await using (var take = new NpgsqlCommand("SELECT pg_advisory_lock(@key)", connection) { CommandTimeout = 0 })
        {
            take.Parameters.AddWithValue("key", FullSyncLockKey);
            await take.ExecuteNonQueryAsync(ct);
        }
        try
        {
            // The first sync into an empty customers table has nobody to keep fresh: one transaction.
            // A dry run leaves the indexes alone (dropping them is a write of its own).
            async Task<SyncCounts> Run() => await CustomersEmptyAsync(connection, ct)
                ? await RunInOneTransactionAsync(connection, mode, scope, jobId, dryRun, ct)
                : await FullSyncInChunksAsync(connection, mode, jobId, dryRun, ct);
            return dryRun is null ? await DeferringIndexesAsync(connection, mode, Run, ct) : await Run();
        }
        finally
        {
            // A broken connection has lost its session, and the lock with it.
            if (connection.State == ConnectionState.Open)
            {
                await using var release = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", connection);
                release.Parameters.AddWithValue("key", FullSyncLockKey);
                await release.ExecuteNonQueryAsync(CancellationToken.None);
            }
        }
    }

    private static async Task<bool> CustomersEmptyAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("SELECT NOT EXISTS (SELECT 1 FROM customers)", connection);
        return (bool)(await command.ExecuteScalarAsync(ct))!;
    }

    // Scoped runs, and a full sync into an empty customers table.
    private async Task<SyncCounts> RunInOneTransactionAsync(
        NpgsqlConnection connection, SyncMode mode, SyncScope scope, string? jobId, DryRun? dryRun, CancellationToken ct)
    {
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await LockAsync(connection, transaction, scope, ct);
        // From here on a new order write queues a new job: this run may already be past it.
        if (scope is SyncScope.Pending)
            await SyncScheduler.ReleaseDispatchClaimAsync(dataSource, ct);

        // The run starts once it holds its lock, so runs of one kind never overlap in sync_runs.
        return await RecordRunAsync(connection, mode, jobId, dryRun, async (runId, stopwatch) =>
        {
            var batch = await NewBatchAsync(connection, transaction, mode, runId, ct);
            var counts = await SyncAsync(batch, scope, stopwatch, ct);
            var changes = await EndTransactionAsync(batch, transaction, dryRun, ct);
            if (dryRun is not null)
            {
                await FinishRunAsync(runId, SyncRunStatus.Succeeded, counts, ErrorSummary(batch.Refused), changes, ct);
                return counts;
            }
            // Recorded inside the transaction: the run row says succeeded exactly when the sync committed,
            // and it finished before the lock passes to the next run.
            await FinishRunAsync(runId, SyncRunStatus.Succeeded, counts, ErrorSummary(batch.Refused), changes, ct, transaction);
            await transaction.CommitAsync(ct);
            return counts;
        }, ct);
    }

    // The end of one of a run's transactions, past its last write: the run's changes per
    // field as the ledger has them so far. A dry run adds them (and its sample) up and rolls
    // back; a real run leaves the commit to the caller.
    private static async Task<Dictionary<string, int>> EndTransactionAsync(
        Batch batch, NpgsqlTransaction transaction, DryRun? dryRun, CancellationToken ct)
    {
        var connection = transaction.Connection!;
        var changes = await ChangeLedger.CountRunChangesAsync(connection, transaction, batch.RunId, ct);
        if (dryRun is null)
            return changes;
        dryRun.Sample.AddRange(await ChangeLedger.SampleRunChangesAsync(
            connection, transaction, batch.RunId, DryRunSampleSize - dryRun.Sample.Count, ct));
        await transaction.RollbackAsync(ct);
        foreach (var (field, count) in changes)
            dryRun.Changes[field] = dryRun.Changes.GetValueOrDefault(field) + count;
        return dryRun.Changes;
    }

    // The run row, the metrics and the log around a run. The body records the run's success
    // itself, inside its last transaction where it has one. The connection holds the run's lock.
    private async Task<SyncCounts> RecordRunAsync(
        NpgsqlConnection connection, SyncMode mode, string? jobId, DryRun? dryRun, Func<long, Stopwatch, Task<SyncCounts>> body, CancellationToken ct)
    {
        var stopwatch = Stopwatch.StartNew();
        var runId = await StartRunAsync(mode, jobId, connection.ProcessID, dryRun is not null, ct);
        dryRun?.RunId = runId;
        using var logScope = logger.BeginScope(new Dictionary<string, object> { ["SyncRunId"] = runId });
        try
        {
            var counts = await body(runId, stopwatch);
            // A dry run changed nothing: the sync metrics count real runs only.
            if (dryRun is null)
                metrics.SyncFinished(mode, counts, succeeded: true);
            logger.LogInformation("Sync {Mode} run {RunId} (job {JobId}{DryRun}): {@Counts}",
                mode, runId, jobId, dryRun is null ? "" : ", dry run", counts);
            return counts;
        }
        catch (Exception e)
        {
            var failed = new SyncCounts(0, 0, 0, 0, 1, 0, stopwatch.ElapsedMilliseconds);
            if (dryRun is null)
                metrics.SyncFinished(mode, failed, succeeded: false);
            try
            {
                await FinishRunAsync(runId, SyncRunStatus.Failed, failed, e.Message, null, CancellationToken.None);
            }
            catch (Exception recordError)
            {
                // The run's own failure is what the job reports; this one only goes to the log.
                logger.LogWarning(recordError, "Could not record the failure of sync run {RunId}", runId);
            }
            throw;
        }
    }

    // Serialise against other runs (see BulkLockKey), and per customer.
    private static async Task LockAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, SyncScope scope, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("", connection, transaction) { CommandTimeout = 0 };
        command.Parameters.AddWithValue("bulk_lock", BulkLockKey);
        if (scope is SyncScope.Phones phones)
        {
            // Sorted, so that two runs over overlapping phones cannot deadlock.
            command.CommandText = """
                SELECT pg_advisory_xact_lock_shared(@bulk_lock);
                SELECT pg_advisory_xact_lock(hashtextextended(p, 0)) FROM unnest(@phones) AS p ORDER BY p;
                """;
            command.Parameters.AddWithValue("phones", phones.Values.Distinct().Order(StringComparer.Ordinal).ToArray());
        }
        else
        {
            command.CommandText = "SELECT pg_advisory_xact_lock(@bulk_lock)";
        }
        await command.ExecuteNonQueryAsync(ct);
    }

    // The pending requests a run takes: a phone the database refused waits for its retry
    // time, unless a newer write (a corrected order) asks for it again.
    private const string PendingRequestsSql = """
        SELECT r.phone, r.version FROM customer_sync_requests r
        WHERE r.version > r.synced_version
          AND NOT EXISTS (
              SELECT 1 FROM sync_errors e
              WHERE e.phone = r.phone AND e.retry_at > @now AND e.request_version >= r.version)
        """;

    private async Task<SyncCounts> SyncAsync(Batch batch, SyncScope scope, Stopwatch stopwatch, CancellationToken ct)
    {
        // 1. The phones in scope, with the request version this run will have seen. A small
        //    scope (up to LargeScope phones: one customer, a window of order writes) travels
        //    as array parameters: its statements are index lookups of those phones, with no
        //    temp table to create (catalog writes) and no statistics to guess. A large one
        //    is a temp table the statements hash-join with.
        var small = await SmallScopeAsync(batch, scope, ct);
        Func<string, string> inScope;
        if (small is not null)
        {
            (batch.ScopePhones, batch.ScopeVersions) = small.Value;
            batch.ScopeRelation = "unnest(@scope_phones, @scope_versions) AS scope(phone, version)";
            batch.Source = $"({SourceSql("o.normalized_phone = ANY(@scope_phones)")})";
            inScope = column => $"{column} = ANY(@scope_phones)";
        }
        else
        {
            if (scope is SyncScope.Phones list)
            {
                await batch.ExecuteAsync("""
                    CREATE TEMP TABLE sync_scope ON COMMIT DROP AS
                    SELECT p.phone, r.version
                    FROM unnest(@phones) AS p(phone)
                    LEFT JOIN customer_sync_requests r ON r.phone = p.phone
                    """, ct, c => c.Parameters.AddWithValue("phones", list.Values.Distinct().ToArray()));
                batch.ScopeRelation = "sync_scope AS scope";
            }
            else if (scope is SyncScope.Pending)
            {
                await batch.ExecuteAsync($"CREATE TEMP TABLE sync_scope ON COMMIT DROP AS {PendingRequestsSql}", ct);
                batch.ScopeRelation = "sync_scope AS scope";
            }
            inScope = scope is SyncScope.All
                ? column => $"{column} IS NOT NULL"
                : column => $"{column} IN (SELECT phone FROM sync_scope)";

            // Statistics of customers can be stale mid-run (an autoanalyze during the run
            // sees our uncommitted rows as missing), and a nested loop over 200k × 200k rows
            // then takes minutes; hash joins are right at this size. The per-phone aggregate
            // also fits in memory instead of spilling.
            await batch.ExecuteAsync(BulkSettings, ct);

            // 2. Per phone: the latest order's contact fields and the completed orders' statistics.
            //    A scope of a tenth of the customers or more (an import of new phones) reads
            //    all orders in the phone index's order, as a full sync does, and keeps the
            //    phones in scope: joining the orders with the scope first would sort every
            //    matched order again (a temp table also rules out parallel plans): twice as slow.
            var source = scope is SyncScope.All || !await ScopeIsMostOfTheTableAsync(batch, ct)
                ? SourceSql(inScope("o.normalized_phone"))
                : $"SELECT * FROM ({SourceSql("o.normalized_phone IS NOT NULL")} OFFSET 0) whole WHERE {inScope("whole.phone")}";
            await batch.ExecuteAsync($"CREATE TEMP TABLE sync_source ON COMMIT DROP AS {source}", ct);
        }

        // 3–5. Create and update customers.
        var (created, updated) = await ApplyIsolatingAsync(batch, inScope, ct);

        // 6. Auto runs record which writes they have seen, so the sweeper can tell what is
        //    left. A refused phone's request stays pending for its retry.
        if (batch.Mode == SyncMode.Auto && batch.ScopeRelation is { } seen)
        {
            // In phone order, as writers take them (SyncScheduler.RecordAsync): no deadlock.
            await batch.ExecuteAsync($"""
                SELECT 1 FROM customer_sync_requests
                WHERE {inScope("phone")}
                ORDER BY phone
                FOR UPDATE;
                UPDATE customer_sync_requests r
                SET synced_version = greatest(r.synced_version, scope.version)
                FROM {seen}
                WHERE r.phone = scope.phone AND scope.version IS NOT NULL AND scope.phone <> ALL(@refused)
                """, ct);
        }

        // 7. Counts for the run row and the job's result.
        var (total, skipped, refusedCustomers) = await CountAsync(
            batch, inScope, scope is SyncScope.All ? "(SELECT count(*) FROM orders WHERE normalized_phone IS NULL)::int" : "0", ct);
        return new SyncCounts(created, updated, total - created - updated - refusedCustomers, skipped,
            batch.Refused.Count, total, stopwatch.ElapsedMilliseconds);
    }

    // Whether sync_scope holds at least a tenth as many phones as customers has rows (by
    // the planner's estimate; an empty or never analysed table counts as none).
    private static async Task<bool> ScopeIsMostOfTheTableAsync(Batch batch, CancellationToken ct) =>
        await batch.ScalarAsync<bool>("""
            SELECT (SELECT count(*) FROM sync_scope) * 10 >= greatest(reltuples, 0)
            FROM pg_class WHERE oid = 'customers'::regclass
            """, ct);

    // The phones and request versions of a scope of at most LargeScope phones, else null.
    private static async Task<(string[] Phones, long?[] Versions)?> SmallScopeAsync(Batch batch, SyncScope scope, CancellationToken ct)
    {
        string sql;
        string[]? listed = null;
        switch (scope)
        {
            case SyncScope.Phones list:
                listed = list.Values.Distinct().Order(StringComparer.Ordinal).ToArray();
                if (listed.Length > LargeScope)
                    return null;
                // Versions matter to auto runs only (step 6).
                if (batch.Mode != SyncMode.Auto)
                    return (listed, new long?[listed.Length]);
                sql = "SELECT p.phone, r.version FROM unnest(@phones) AS p(phone) LEFT JOIN customer_sync_requests r ON r.phone = p.phone";
                break;
            case SyncScope.Pending:
                sql = $"{PendingRequestsSql} LIMIT {LargeScope + 1}";
                break;
            default:
                return null;
        }

        var phones = new List<string>();
        var versions = new List<long?>();
        await using (var command = batch.Command(sql))
        {
            if (listed is not null)
                command.Parameters.AddWithValue("phones", listed);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                phones.Add(reader.GetString(0));
                versions.Add(reader.IsDBNull(1) ? null : reader.GetInt64(1));
            }
        }
        return phones.Count > LargeScope ? null : (phones.ToArray(), versions.ToArray());
    }

    private const string BulkSettings = "SET LOCAL enable_nestloop = off; SET LOCAL work_mem = '64MB'";

    // Per phone in scope: the latest order's contact fields and the completed orders'
    // statistics. "Latest" = newest created_at, then highest id (the orders index serves this order).
    private static string SourceSql(string phoneInScope) => $"""
        WITH latest AS (
            SELECT DISTINCT ON (o.normalized_phone)
                   o.normalized_phone AS phone,
                   btrim(o.customer_name, E' \t\r\n') AS name,
                   btrim(o.customer_email, E' \t\r\n') AS email,
                   btrim(o.delivery_city, E' \t\r\n') AS city,
                   btrim(o.delivery_address, E' \t\r\n') AS address
            FROM orders o
            WHERE {phoneInScope}
            ORDER BY o.normalized_phone, o.created_at DESC, o.id DESC
        ),
        stats AS (
            SELECT o.normalized_phone AS phone,
                   count(*)::int AS total_orders,
                   sum(o.total_amount) AS total_spent,
                   max(o.created_at) AS last_order_date
            FROM orders o
            WHERE o.status = 'completed' AND {phoneInScope}
            GROUP BY o.normalized_phone
        )
        SELECT l.phone, l.name, l.email, l.city, l.address,
               coalesce(s.total_orders, 0) AS total_orders,
               coalesce(s.total_spent, 0) AS total_spent,
               coalesce(round(s.total_spent / s.total_orders, 2), 0) AS average_order,
               s.last_order_date
        FROM latest l
        LEFT JOIN stats s ON s.phone = l.phone
        """;

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
    private async Task<SyncCounts> FullSyncInChunksAsync(
        NpgsqlConnection connection, SyncMode mode, string? jobId, DryRun? dryRun, CancellationToken ct)
    {
        return await RecordRunAsync(connection, mode, jobId, dryRun, async (runId, stopwatch) =>
        {
            var now = clock.GetUtcNow().UtcDateTime;
            var chunkSize = Math.Max(1, syncOptions.Value.FullSyncChunkSize);
            List<string> bounds;
            int skipped;
            try
            {
                await using (var snapshot = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct))
                {
                    var phase1 = NewBatch(connection, snapshot, mode, runId, now);
                    // Phase 1 writes no customer (only session temp tables).
                    await phase1.ExecuteAsync(BulkSettings, ct);
                    await phase1.ExecuteAsync($"""
                        DROP TABLE IF EXISTS full_source, full_versions;
                        CREATE TEMP TABLE full_source AS {SourceSql("o.normalized_phone IS NOT NULL")};
                        CREATE TEMP TABLE full_versions AS SELECT phone, version FROM customer_sync_requests;
                        CREATE INDEX ON full_source (phone);
                        CREATE INDEX ON full_versions (phone);
                        ANALYZE full_source;
                        ANALYZE full_versions;
                        """, ct);
                    // The first phone of every chunk but the first: chunk i covers [bounds[i-1], bounds[i]).
                    bounds = [];
                    await using (var command = phase1.Command("""
                        SELECT phone FROM (SELECT phone, row_number() OVER (ORDER BY phone) AS n FROM full_source) numbered
                        WHERE n % @chunk = 1 AND n > 1
                        ORDER BY phone
                        """))
                    {
                        command.Parameters.AddWithValue("chunk", (long)chunkSize);
                        await using var reader = await command.ExecuteReaderAsync(ct);
                        while (await reader.ReadAsync(ct))
                            bounds.Add(reader.GetString(0));
                    }
                    skipped = await phase1.ScalarAsync<int>("SELECT count(*)::int FROM orders WHERE normalized_phone IS NULL", ct);
                    await snapshot.CommitAsync(ct);
                }

                int created = 0, updated = 0, unchanged = 0, total = 0, errors = 0;
                var refusedPhones = new List<(string Phone, string Error)>();
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
                await FinishRunAsync(runId, SyncRunStatus.Succeeded, counts, ErrorSummary(refusedPhones), changes, ct);
                return counts;
            }
            finally
            {
                if (connection.State == ConnectionState.Open)
                {
                    await using var drop = new NpgsqlCommand("DROP TABLE IF EXISTS full_source, full_versions", connection);
                    await drop.ExecuteNonQueryAsync(CancellationToken.None);
                }
            }
        }, ct);
    }

    // One chunk of a full sync: the phones in [lo, hi) (null: unbounded), in its own transaction.
    private async Task<(SyncCounts Counts, IReadOnlyList<(string Phone, string Error)> Refused)> SyncChunkAsync(
        NpgsqlConnection connection, SyncMode mode, long runId, string? lo, string? hi, DryRun? dryRun, CancellationToken ct)
    {
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await LockAsync(connection, transaction, new SyncScope.All(), ct);
        var batch = await NewBatchAsync(connection, transaction, mode, runId, ct);
        (batch.RangeLow, batch.RangeHigh) = (lo, hi);
        // Explicit ranges on every table, so that each statement is an index range scan of
        // the chunk, never a scan of a whole table per chunk.
        string InRange(string column) =>
            string.Join(" AND ", new[] { lo is null ? null : $"{column} >= @lo", hi is null ? null : $"{column} < @hi" }
                .Where(p => p is not null).DefaultIfEmpty($"{column} IS NOT NULL"));

        // Phones whose orders were written through the API since the snapshot.
        await batch.ExecuteAsync($"""
            CREATE TEMP TABLE sync_stale ON COMMIT DROP AS
            SELECT r.phone FROM customer_sync_requests r
            LEFT JOIN full_versions v ON v.phone = r.phone AND {InRange("v.phone")}
            WHERE {InRange("r.phone")} AND r.version IS DISTINCT FROM v.version;
            CREATE TEMP TABLE sync_source ON COMMIT DROP AS
            SELECT * FROM full_source f
            WHERE {InRange("f.phone")} AND NOT EXISTS (SELECT 1 FROM sync_stale st WHERE st.phone = f.phone);
            INSERT INTO sync_source {SourceSql("o.normalized_phone IN (SELECT phone FROM sync_stale)")};
            """, ct);

        var (created, updated) = await ApplyIsolatingAsync(batch, InRange, ct);
        var (total, _, refusedCustomers) = await CountAsync(batch, InRange, "0", ct);
        if (dryRun is not null)
            await EndTransactionAsync(batch, transaction, dryRun, ct);
        else
            await transaction.CommitAsync(ct);
        var counts = new SyncCounts(created, updated, total - created - updated - refusedCustomers, 0, batch.Refused.Count, total, 0);
        return (counts, batch.Refused);
    }

    // Steps 3–5 over the batch's sync_source, all or nothing per phone. Normally one attempt
    // inside a savepoint. If the database refuses a row for what it holds (SQLSTATE class
    // 22, data exception, or 23, integrity constraint), the attempt is rolled back and the
    // batch's phones are bisected, each half under its own savepoint, down to the phones
    // that fail alone: those are recorded in sync_errors and skipped, everything else
    // commits. A batch of n phones with one bad phone costs about 2 log2(n) extra attempts
    // over shrinking halves, about three times the batch's own work.
    private async Task<(int Created, int Updated)> ApplyIsolatingAsync(Batch batch, Func<string, string> inScope, CancellationToken ct)
    {
        await batch.ExecuteAsync("SAVEPOINT sync_apply", ct);
        try
        {
            var counts = await ApplyAsync(batch, inScope, ct);
            await batch.ExecuteAsync("RELEASE SAVEPOINT sync_apply", ct);
            await ClearErrorsAsync(batch, inScope, ct);
            return counts;
        }
        catch (PostgresException e) when (IsRowError(e))
        {
            await batch.ExecuteAsync("ROLLBACK TO SAVEPOINT sync_apply", ct);
            logger.LogWarning("Sync run {RunId}: the database refused a row ({SqlState} {Message}); isolating the phones that cause it",
                batch.RunId, e.SqlState, e.MessageText);
        }

        // The batch's phones, numbered in order, so that halves are ranges of numbers.
        await batch.ExecuteAsync($"""
            CREATE TEMP TABLE sync_bisect ON COMMIT DROP AS
            SELECT phone, row_number() OVER (ORDER BY phone) AS n
            FROM (SELECT phone FROM {batch.Source} s UNION SELECT c.phone FROM customers c WHERE {inScope("c.phone")}) phones;
            CREATE INDEX ON sync_bisect (n);
            CREATE TEMP TABLE sync_part (phone varchar PRIMARY KEY) ON COMMIT DROP;
            ANALYZE sync_bisect;
            """, ct);
        var total = await batch.ScalarAsync<long>("SELECT count(*) FROM sync_bisect", ct);
        int created = 0, updated = 0;
        var pending = new Stack<(long Lo, long Hi)>();
        pending.Push((1, total));
        while (pending.TryPop(out var part))
        {
            await batch.ExecuteAsync("""
                TRUNCATE sync_part;
                INSERT INTO sync_part SELECT phone FROM sync_bisect WHERE n BETWEEN @part_lo AND @part_hi;
                ANALYZE sync_part;
                SAVEPOINT sync_apply;
                """, ct, c =>
            {
                c.Parameters.AddWithValue("part_lo", part.Lo);
                c.Parameters.AddWithValue("part_hi", part.Hi);
            });
            try
            {
                var counts = await ApplyAsync(batch, column => $"{inScope(column)} AND {column} IN (SELECT phone FROM sync_part)", ct);
                await batch.ExecuteAsync("RELEASE SAVEPOINT sync_apply", ct);
                created += counts.Created;
                updated += counts.Updated;
            }
            catch (PostgresException e) when (IsRowError(e))
            {
                await batch.ExecuteAsync("ROLLBACK TO SAVEPOINT sync_apply", ct);
                if (part.Lo == part.Hi)
                {
                    await RecordErrorAsync(batch, part.Lo, e, ct);
                    if (batch.Refused.Count > MaxIsolatedErrors)
                        throw new InvalidOperationException(
                            $"The database refused more than {MaxIsolatedErrors} customers of one sync batch; last: {e.SqlState} {e.MessageText}", e);
                    continue;
                }
                var middle = part.Lo + (part.Hi - part.Lo) / 2;
                // The upper half is pushed first, so phones are tried in order.
                pending.Push((middle + 1, part.Hi));
                pending.Push((part.Lo, middle));
            }
        }
        await ClearErrorsAsync(batch, inScope, ct);
        await batch.ExecuteAsync("DROP TABLE sync_bisect, sync_part", ct);
        return (created, updated);
    }

    // Data exceptions (22: out of range, too long, invalid text) and integrity constraint
    // violations (23) depend on the rows written: they fail again on every retry.
    private static bool IsRowError(PostgresException e) => e.SqlState.StartsWith("22") || e.SqlState.StartsWith("23");

    private async Task RecordErrorAsync(Batch batch, long n, PostgresException e, CancellationToken ct)
    {
        var error = e.ConstraintName is null ? e.MessageText : $"{e.MessageText} ({e.ConstraintName})";
        // The version this run saw (scoped runs), else the current one.
        var seenVersion = batch.ScopeRelation is { } seen
            ? $"(SELECT scope.version FROM {seen} WHERE scope.phone = b.phone),"
            : "";
        var phone = await batch.ScalarAsync<string>($"""
            INSERT INTO sync_errors AS e (phone, sql_state, error, run_id, request_version, attempts,
                                          first_failed_at, last_failed_at, retry_at)
            SELECT b.phone, @sql_state, @error, @run_id,
                   coalesce({seenVersion} (SELECT r.version FROM customer_sync_requests r WHERE r.phone = b.phone)),
                   1, @now, @now, @now + @first_retry
            FROM sync_bisect b WHERE b.n = @n
            ON CONFLICT (phone) DO UPDATE SET
                sql_state = excluded.sql_state, error = excluded.error, run_id = excluded.run_id,
                request_version = excluded.request_version, attempts = e.attempts + 1, last_failed_at = excluded.last_failed_at,
                -- Doubling from a minute up to a day: a phone that keeps failing costs little.
                retry_at = excluded.last_failed_at + least(@first_retry * power(2, least(e.attempts, 20)), interval '1 day')
            RETURNING phone
            """, ct, c =>
        {
            c.Parameters.AddWithValue("sql_state", e.SqlState);
            c.Parameters.AddWithValue("error", error);
            c.Parameters.AddWithValue("run_id", batch.RunId);
            c.Parameters.AddWithValue("n", n);
            c.Parameters.AddWithValue("first_retry", TimeSpan.FromMinutes(1));
        });
        batch.Refused.Add((phone, $"{e.SqlState}: {error}"));
        metrics.CustomerRefused(e.SqlState);
        logger.LogWarning("Sync run {RunId}: the customer of {Phone} could not be written: {SqlState} {Error}",
            batch.RunId, phone, e.SqlState, error);
    }

    // A phone that synced is no longer in error.
    private static Task ClearErrorsAsync(Batch batch, Func<string, string> inScope, CancellationToken ct) =>
        batch.ExecuteAsync($"DELETE FROM sync_errors e WHERE {inScope("e.phone")} AND e.phone <> ALL(@refused)", ct);

    // Steps 3–5; column filter `phoneFilter` restricts every statement to the batch.
    private async Task<(int Created, int Updated)> ApplyAsync(Batch batch, Func<string, string> phoneFilter, CancellationToken ct)
    {
        // 3. Create the missing customers, complete from the start (not in statsOnly). The
        //    anti-join skips existing phones cheaply; ON CONFLICT covers a customer created
        //    meanwhile by the API or another run, which step 4 then brings up to date.
        var created = 0;
        if (batch.Mode != SyncMode.StatsOnly)
        {
            created = await batch.ExecuteAsync($"""
                INSERT INTO customers (name, phone, email, city, address,
                                       total_orders, total_spent, average_order, last_order_date, category, category_rule,
                                       created_at, updated_at)
                SELECT coalesce(nullif(s.name, ''), @placeholder), s.phone, s.email, s.city, s.address,
                       s.total_orders, s.total_spent, s.average_order, s.last_order_date,
                       {CategoryRules.Sql("s.total_orders", "s.total_spent", "s.last_order_date")},
                       {CategoryRules.RuleSql("s.total_orders", "s.total_spent", "s.last_order_date")},
                       @now, @now
                FROM {batch.Source} s
                WHERE {phoneFilter("s.phone")}
                  AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.phone = s.phone)
                ORDER BY s.phone
                ON CONFLICT (phone) DO NOTHING
                """, ct);
        }

        // 4. Bring existing customers up to date, writing only rows that change. The new
        //    values are computed from the target row itself (c), so a concurrent API edit is
        //    re-read by PostgreSQL rather than overwritten with a stale copy.
        var columns = NewValues(batch.Mode);
        var updated = await batch.ExecuteAsync($"""
            UPDATE customers c
            SET ({string.Join(", ", columns.Keys)}, updated_at) = ({string.Join(", ", columns.Values)}, @now)
            FROM {batch.Source} s
            WHERE s.phone = c.phone AND {phoneFilter("c.phone")}
              AND ({string.Join(", ", columns.Keys.Select(k => "c." + k))})
                  IS DISTINCT FROM ({string.Join(", ", columns.Values)})
            """, ct);

        // 5. Customers without any order in scope: no statistics, category new.
        updated += await batch.ExecuteAsync($"""
            UPDATE customers c
            SET (total_orders, total_spent, average_order, last_order_date, category, category_rule, updated_at)
                = (0, 0, 0, NULL, 'new', 'noCompletedOrders', @now)
            WHERE {phoneFilter("c.phone")}
              AND NOT EXISTS (SELECT 1 FROM {batch.Source} s WHERE s.phone = c.phone)
              AND (c.total_orders, c.total_spent, c.average_order, c.last_order_date, c.category, c.category_rule)
                  IS DISTINCT FROM (0, 0, 0, NULL, 'new', 'noCompletedOrders')
            """, ct);
        return (created, updated);
    }

    // Customers in scope, orders without a usable phone (full syncs), and how many of the
    // customers in scope were refused (they are neither updated nor unchanged).
    private static async Task<(int Total, int Skipped, int RefusedCustomers)> CountAsync(
        Batch batch, Func<string, string> inScope, string skippedSql, CancellationToken ct)
    {
        await using var command = batch.Command($"""
            SELECT (SELECT count(*) FROM customers c WHERE {inScope("c.phone")})::int,
                   {skippedSql},
                   (SELECT count(*) FROM customers c WHERE c.phone = ANY(@refused))::int
            """);
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (reader.GetInt32(0), reader.GetInt32(1), reader.GetInt32(2));
    }

    // A bulk run into an empty customers table (the first sync, the first import's batch):
    // building the secondary indexes once after the insert costs far less than maintaining
    // them row by row (for 200 000 customers 5.7 s instead of 9.3 s, the trigram index most
    // of it). They are dropped and rebuilt in short transactions of their own around the
    // run's, not inside it: DROP INDEX locks out readers until its transaction ends, and
    // readers must never wait for a whole sync. The rebuild (CREATE INDEX) locks out writers
    // of customers only, for the build. The primary key and the unique phone index stay, so
    // ON CONFLICT still works. deferred_indexes keeps the definitions, written in the
    // transaction that drops them: after a crash in between, the next bulk run rebuilds them.
    private static async Task<SyncCounts> DeferringIndexesAsync(
        NpgsqlConnection connection, SyncMode mode, Func<Task<SyncCounts>> run, CancellationToken ct)
    {
        var rebuild = await DeferIndexesIfEmptyAsync(connection, mode, ct);
        try
        {
            return await run();
        }
        finally
        {
            // A broken connection cannot rebuild; the next bulk run does.
            if (rebuild && connection.State == ConnectionState.Open)
                await RebuildDeferredIndexesAsync(connection, ct);
        }
    }

    // Drops the secondary indexes if customers is empty; true if any index waits for its rebuild.
    private static async Task<bool> DeferIndexesIfEmptyAsync(NpgsqlConnection connection, SyncMode mode, CancellationToken ct)
    {
        // The usual case, a table with customers and nothing deferred, costs one query (an index
        // probe: per-customer runs never scan customers).
        await using (var check = new NpgsqlCommand(
            "SELECT (SELECT id FROM customers ORDER BY id LIMIT 1) IS NULL OR EXISTS (SELECT 1 FROM deferred_indexes)", connection))
        {
            if (!(bool)(await check.ExecuteScalarAsync(ct))!)
                return false;
        }

        await using var transaction = await connection.BeginTransactionAsync(ct);
        var dropped = new List<string>();
        await using (var take = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key)", connection, transaction) { CommandTimeout = 0 })
        {
            take.Parameters.AddWithValue("key", IndexLockKey);
            await take.ExecuteNonQueryAsync(ct);
        }
        await using (var command = new NpgsqlCommand("""
            INSERT INTO deferred_indexes (name, definition)
            SELECT format('%I.%I', n.nspname, c.relname), pg_get_indexdef(i.indexrelid)
            FROM pg_index i
            JOIN pg_class c ON c.oid = i.indexrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE i.indrelid = 'customers'::regclass AND NOT i.indisunique AND NOT i.indisprimary
              AND NOT EXISTS (SELECT 1 FROM customers)
              AND @inserts
            ORDER BY 1
            ON CONFLICT (name) DO NOTHING
            RETURNING name
            """, connection, transaction))
        {
            // A statsOnly run creates no customers: nothing to gain.
            command.Parameters.AddWithValue("inserts", mode != SyncMode.StatsOnly);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                dropped.Add(reader.GetString(0));
        }
        if (dropped.Count > 0)
        {
            await using var drop = new NpgsqlCommand($"DROP INDEX {string.Join(", ", dropped)}", connection, transaction) { CommandTimeout = 0 };
            await drop.ExecuteNonQueryAsync(ct);
        }
        await using (var waiting = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM deferred_indexes)", connection, transaction))
        {
            var rebuild = (bool)(await waiting.ExecuteScalarAsync(ct))!;
            await transaction.CommitAsync(ct);
            return rebuild;
        }
    }

    // Builds every deferred index, in one transaction with the removal of its definition.
    private static async Task RebuildDeferredIndexesAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var definitions = new List<string>();
        await using (var take = new NpgsqlCommand(
            "SELECT pg_advisory_xact_lock(@key); SET LOCAL maintenance_work_mem = '256MB'", connection, transaction)
        { CommandTimeout = 0 })
        {
            take.Parameters.AddWithValue("key", IndexLockKey);
            await take.ExecuteNonQueryAsync(ct);
        }
        await using (var command = new NpgsqlCommand("SELECT definition FROM deferred_indexes ORDER BY name", connection, transaction))
        {
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                definitions.Add(reader.GetString(0));
        }
        // pg_get_indexdef's "CREATE INDEX name ON …": an index someone already rebuilt stays.
        var builds = definitions.Select(d => "CREATE INDEX IF NOT EXISTS " + d["CREATE INDEX ".Length..]);
        await using (var build = new NpgsqlCommand(string.Join(";\n", [.. builds, "DELETE FROM deferred_indexes"]), connection, transaction) { CommandTimeout = 0 })
            await build.ExecuteNonQueryAsync(ct);
        await transaction.CommitAsync(ct);
    }

    // Column → new value, per mode (SPEC §3's table). s is the latest order's data.
    private static Dictionary<string, string> NewValues(SyncMode mode)
    {
        var values = new Dictionary<string, string>();
        string[] contact = ["email", "city", "address"];
        switch (mode)
        {
            case SyncMode.Auto:
                // Fill only what is empty (the name also when it is the placeholder).
                values["name"] = "CASE WHEN c.name IN ('', @placeholder) AND s.name <> '' THEN s.name ELSE c.name END";
                foreach (var column in contact)
                    values[column] = $"CASE WHEN c.{column} = '' AND s.{column} <> '' THEN s.{column} ELSE c.{column} END";
                break;
            case SyncMode.Force:
                // Overwrite wherever the latest order has a value.
                values["name"] = "CASE WHEN s.name <> '' THEN s.name ELSE c.name END";
                foreach (var column in contact)
                    values[column] = $"CASE WHEN s.{column} <> '' THEN s.{column} ELSE c.{column} END";
                break;
        }
        values["total_orders"] = "s.total_orders";
        values["total_spent"] = "s.total_spent";
        values["average_order"] = "s.average_order";
        values["last_order_date"] = "s.last_order_date";
        values["category"] = CategoryRules.Sql("s.total_orders", "s.total_spent", "s.last_order_date");
        values["category_rule"] = CategoryRules.RuleSql("s.total_orders", "s.total_spent", "s.last_order_date");
        return values;
    }

    private static string? ErrorSummary(IReadOnlyList<(string Phone, string Error)> refused) => refused.Count == 0
        ? null
        : $"{refused.Count} customer(s) could not be written and will be retried (sync_errors, GET /api/sync/errors); first: {refused[0].Phone}: {refused[0].Error}";

    // The holder is the session that holds the run's lock: once it is gone, so is the run (SyncRuns).
    private async Task<long> StartRunAsync(SyncMode mode, string? jobId, int holderPid, bool dryRun, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO sync_runs (job_id, mode, status, started_at, created_count, updated_count, unchanged_count,
                                   skipped_count, error_count, total_customers, duration_ms, holder_pid, dry_run)
            VALUES (@job_id, @mode, 'running', @now, 0, 0, 0, 0, 0, 0, 0, @holder_pid, @dry_run)
            RETURNING id
            """);
        command.Parameters.AddWithValue("dry_run", dryRun);
        command.Parameters.AddWithValue("holder_pid", holderPid);
        command.Parameters.AddWithValue("job_id", (object?)jobId ?? DBNull.Value);
        command.Parameters.AddWithValue("mode", EnumText.ToText(mode));
        command.Parameters.AddWithValue("now", clock.GetUtcNow().UtcDateTime);
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    private async Task FinishRunAsync(
        long runId, SyncRunStatus status, SyncCounts counts, string? error, Dictionary<string, int>? changes,
        CancellationToken ct, NpgsqlTransaction? transaction = null)
    {
        await using var command = transaction is null ? dataSource.CreateCommand() : new NpgsqlCommand("", transaction.Connection, transaction);
        command.CommandText = """
            UPDATE sync_runs
            SET status = @status, finished_at = @now, created_count = @created, updated_count = @updated,
                unchanged_count = @unchanged, skipped_count = @skipped, error_count = @errors,
                total_customers = @total, duration_ms = @duration, error = @error, changes = @changes
            WHERE id = @id
            """;
        command.Parameters.AddWithValue("changes", NpgsqlTypes.NpgsqlDbType.Jsonb,
            changes is null ? DBNull.Value : System.Text.Json.JsonSerializer.Serialize(changes));
        command.Parameters.AddWithValue("id", runId);
        command.Parameters.AddWithValue("status", EnumText.ToText(status));
        command.Parameters.AddWithValue("now", clock.GetUtcNow().UtcDateTime);
        command.Parameters.AddWithValue("created", counts.CreatedCount);
        command.Parameters.AddWithValue("updated", counts.UpdatedCount);
        command.Parameters.AddWithValue("unchanged", counts.UnchangedCount);
        command.Parameters.AddWithValue("skipped", counts.SkippedCount);
        command.Parameters.AddWithValue("errors", counts.ErrorCount);
        command.Parameters.AddWithValue("total", counts.TotalCustomers);
        command.Parameters.AddWithValue("duration", counts.DurationMs);
        command.Parameters.AddWithValue("error", (object?)error ?? DBNull.Value);
        await command.ExecuteNonQueryAsync(ct);
    }

    private Batch NewBatch(NpgsqlConnection connection, NpgsqlTransaction transaction, SyncMode mode, long runId, DateTime now) =>
        new(connection, transaction, mode, runId, now, syncOptions.Value.PlaceholderName, categoryOptions.Value);

    // A transaction that writes customers: it names itself to the ledger first.
    private async Task<Batch> NewBatchAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, SyncMode mode, long runId, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await ChangeLedger.BeginAsync(connection, transaction, ChangeLedger.SyncSource(mode), runId,
            CategoryRules.ThresholdsJson(categoryOptions.Value, now), ct);
        return NewBatch(connection, transaction, mode, runId, now);
    }

    // One transaction's statements, with the parameters every sync statement may use.
    private sealed class Batch(
        NpgsqlConnection connection, NpgsqlTransaction transaction, SyncMode mode, long runId, DateTime now,
        string placeholder, CategoryOptions categories)
    {
        public SyncMode Mode => mode;
        public long RunId => runId;
        // A chunk of a full sync: the phones in [RangeLow, RangeHigh), as @lo and @hi.
        public string? RangeLow { get; set; }
        public string? RangeHigh { get; set; }

        // The phones of the scope with the request version the run saw, as a relation named
        // scope with columns (phone, version): the sync_scope table or the arrays of a small scope.
        // Full syncs have none.
        public string? ScopeRelation { get; set; }
        public string[] ScopePhones { get; set; } = [];
        public long?[] ScopeVersions { get; set; } = [];

        // The per-phone source the steps read: the sync_source table, or for a small scope
        // the query itself (a few index lookups, cheaper than a temp table).
        public string Source { get; set; } = "sync_source";

        // Phones the database refused in this transaction, with the reason.
        public List<(string Phone, string Error)> Refused { get; } = [];

        public NpgsqlCommand Command(string sql)
        {
            var command = new NpgsqlCommand(sql, connection, transaction) { CommandTimeout = 0 };
            command.Parameters.AddWithValue("now", now);
            command.Parameters.AddWithValue("placeholder", placeholder);
            command.Parameters.AddWithValue("refused", Refused.Select(r => r.Phone).ToArray());
            command.Parameters.AddWithValue("scope_phones", ScopePhones);
            command.Parameters.AddWithValue("scope_versions", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Bigint, ScopeVersions);
            if (RangeLow is not null)
                command.Parameters.AddWithValue("lo", RangeLow);
            if (RangeHigh is not null)
                command.Parameters.AddWithValue("hi", RangeHigh);
            CategoryRules.AddParameters(command, categories, now);
            return command;
        }

        public async Task<int> ExecuteAsync(string sql, CancellationToken ct, Action<NpgsqlCommand>? parameters = null)
        {
            await using var command = Command(sql);
            parameters?.Invoke(command);
            return await command.ExecuteNonQueryAsync(ct);
        }

        public async Task<T> ScalarAsync<T>(string sql, CancellationToken ct, Action<NpgsqlCommand>? parameters = null)
        {
            await using var command = Command(sql);
            parameters?.Invoke(command);
            return (T)(await command.ExecuteScalarAsync(ct))!;
        }
    }
}
