using Crm.Jobs.Categories;
using Crm.Jobs.Data;
using Crm.Jobs.Ledger;
using Hangfire;
using Hangfire.States;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Crm.Jobs.Sync;

// Everything that asks for a sync goes through here: the API, the import and the CLI.
public sealed class SyncScheduler(
    NpgsqlDataSource dataSource, IBackgroundJobClient jobs, JobStorage storage, IOptions<SyncOptions> options,
    ILogger<SyncScheduler> logger)
{
    private static readonly string RecordSql = RecordSqlFor("SELECT unnest(@phones)");

    // The customers of the phones a query yields need an auto sync. Rows are locked in phone
    // order, as every writer does, so two writers never deadlock. RETURNING phone: the
    // caller learns whether (and for whom) to dispatch the job.
    public static string RecordSqlFor(string phonesQuery) => $"""
        INSERT INTO customer_sync_requests AS r (phone, version, synced_version, requested_at)
        SELECT DISTINCT phone, 1, 0, now() FROM ({phonesQuery}) AS p(phone)
        WHERE phone IS NOT NULL
        ORDER BY phone
        ON CONFLICT (phone) DO UPDATE SET version = r.version + 1, requested_at = excluded.requested_at
        RETURNING phone
        """;

    // Inside the caller's transaction, with the order writes: these customers need an auto
    // sync. Committed together, so no crash can lose the request (the sweeper finds it).
    public static Task RecordAsync(CrmDbContext db, IEnumerable<string> phones, CancellationToken ct) =>
        db.Database.ExecuteSqlRawAsync(RecordSql, [new NpgsqlParameter("phones", Sorted(phones))], ct);

    // An EF Core write and the sync requests of its customers' phones commit together; the
    // job is dispatched after the commit, so it always sees the write. Returns the job's id,
    // null without phones (nothing to sync). A write that changes customers names its
    // ledger source.
    // admit runs first in the transaction and may refuse the write by throwing (an order
    // write asks the erasure tombstones there: ErasedPhones).
    public async Task<string?> SaveAndSyncAsync(
        CrmDbContext db, IReadOnlyList<string> phones, CancellationToken ct, string? changeSource = null,
        Func<CancellationToken, Task>? admit = null)
    {
        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            if (admit is not null)
                await admit(ct);
            if (changeSource is not null)
                await ChangeLedger.BeginAsync(db, changeSource, ct);
            await db.SaveChangesAsync(ct);
            if (phones.Count > 0)
                await RecordAsync(db, phones, ct);
            await transaction.CommitAsync(ct);
        }
        if (phones.Count == 0)
            return null;
        try
        {
            return await DispatchAsync(ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The write and its sync requests are committed: the sync-pending sweeper
            // (Crm:Sync:PendingCron) dispatches them. Failing the request now (the database
            // went away the moment after the commit, as in a failover) would tell the client
            // its write did not happen, and a retry would store it twice.
            logger.LogWarning("A committed write's sync job could not be dispatched ({Reason}); the sync-pending sweeper will sync it",
                PostgresErrorText.CodeOf(e));
            return null;
        }
    }

    // Inside the caller's transaction: the locks a per-customer sync takes on these phones and
    // every other phone of their customers (SyncSql.LockPhonesSql). A change of a customer's
    // phones takes them, so no sync reads those phones halfway through it.
    public static Task LockPhonesAsync(CrmDbContext db, IEnumerable<string> phones, CancellationToken ct) =>
        db.Database.ExecuteSqlRawAsync(SyncSql.LockPhonesSql,
            [new NpgsqlParameter("bulk_lock", SyncEngine.BulkLockKey), new NpgsqlParameter("phones", Sorted(phones))], ct);

    public static Task RecordAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IEnumerable<string> phones, CancellationToken ct) =>
        connection.ExecuteAsync(RecordSql, transaction, ct, ("phones", Sorted(phones)));

    // After the commit: make sure a job that has not started yet will sync the pending
    // requests, and return its id. All order writes share that one job until it starts: a
    // started pending sync clears the claim before it reads the requests (SyncEngine), so
    // the write after that gets the next job, and the last job always sees the last write.
    public async Task<string> DispatchAsync(CancellationToken ct)
    {
        string Enqueue() => jobs.Enqueue<SyncJobs>(j => j.PendingWritesSyncAsync(null, CancellationToken.None));

        for (var waited = TimeSpan.Zero; waited < ClaimerWait; waited += ClaimerPoll)
        {
            var (claim, queuedJobId) = await ClaimAsync(ct);
            if (claim is not null)
            {
                var jobId = Enqueue();
                await using var store = dataSource.CreateCommand(
                    "UPDATE pending_sync_dispatch SET job_id = @job_id WHERE id = 1 AND claim = @claim AND enqueued_at IS NOT NULL");
                store.Parameters.AddWithValue("job_id", jobId);
                store.Parameters.AddWithValue("claim", claim.Value);
                await store.ExecuteNonQueryAsync(CancellationToken.None);
                return jobId;
            }
            // Not ours, and its writer has stored the id: that queued job will see this write.
            if (queuedJobId is not null)
                return queuedJobId;
            // Claimed by a writer that is enqueueing its job right now: the id follows within
            // milliseconds. Enqueueing a job of our own instead would start a job per write
            // in a burst.
            await Task.Delay(ClaimerPoll, ct);
        }
        // The claiming writer seems gone: a job of our own, unclaimed, still sees this write.
        return Enqueue();
    }

    private static readonly TimeSpan ClaimerPoll = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan ClaimerWait = TimeSpan.FromSeconds(2);

    // Claims the shared job when no claim is live; either way returns the live claim's job id.
    private async Task<(long? Claim, string? QueuedJobId)> ClaimAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            WITH claimed AS (
                UPDATE pending_sync_dispatch SET claim = claim + 1, enqueued_at = now(), job_id = NULL
                WHERE id = 1 AND (enqueued_at IS NULL OR enqueued_at < now() - @timeout)
                RETURNING claim
            )
            SELECT (SELECT claim FROM claimed), job_id FROM pending_sync_dispatch WHERE id = 1
            """);
        command.Parameters.AddWithValue("timeout", options.Value.PendingClaimTimeout);
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (reader.IsDBNull(0) ? null : reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1));
    }

    // A pending sync calls this once it holds the bulk lock and before it reads the
    // requests. Committed on its own, so writers never wait for the sync's transaction.
    // Its stamp tells the next shared job whether it was claimed during a burst
    // (SyncJobs.PendingWritesSyncAsync): that job is claimed after this commit.
    public static async Task ReleaseDispatchClaimAsync(NpgsqlDataSource dataSource, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(
            "UPDATE pending_sync_dispatch SET enqueued_at = NULL, job_id = NULL, last_sync_started_at = now() WHERE id = 1");
        await command.ExecuteNonQueryAsync(ct);
    }

    // Inside the caller's transaction, with orders written for very many phones at once: one
    // full auto sync makes their customers (PendingSyncDispatch.FullSyncRequestedAt). The caller
    // queues it after the commit (EnqueueFullSyncAsync); the sweeper does if the caller died.
    // It locks the dispatch row until the commit: call it last.
    public static Task RequestFullSyncAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct) =>
        connection.ExecuteAsync(
            "UPDATE pending_sync_dispatch SET full_sync_requested_at = clock_timestamp() WHERE id = 1", transaction, ct);

    public string EnqueuePendingSync(string reason) =>
        jobs.Enqueue<SyncJobs>(j => j.PendingSyncAsync(reason, null, CancellationToken.None));

    public string EnqueueStatistics(long customerId) =>
        jobs.Enqueue<SyncJobs>(j => j.CustomerStatisticsAsync(customerId, null, CancellationToken.None));

    public string EnqueueRevert(long runId) =>
        jobs.Enqueue<LedgerJobs>(j => j.RevertRunAsync(runId, CancellationToken.None));

    public string EnqueueRecalculation() =>
        jobs.Enqueue<RecalculateCategoriesJob>(j => j.RunAsync(CancellationToken.None));

    // One full sync per mode at a time: while one is queued, retrying or running, asking
    // again returns its id instead of queueing another. Callers of one mode queue up on a
    // PostgreSQL advisory lock (woken at once, unlike a polled distributed lock).
    // A dry run joins only a dry run of its mode.
    public async Task<string> EnqueueFullSyncAsync(SyncMode mode, CancellationToken ct, bool dryRun = false)
    {
        var key = EnumText.ToText(mode) + (dryRun ? ":dryRun" : "");
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await connection.LockForTransactionAsync(transaction, FullSyncLockSpace, key, ct);

        using var hangfire = storage.GetConnection();
        var existing = hangfire.GetAllEntriesFromHash("crm:full-sync")?.GetValueOrDefault(key);
        if (existing is not null && UnfinishedStates.Contains(hangfire.GetStateData(existing)?.Name ?? ""))
            return existing;

        var jobId = dryRun
            ? jobs.Enqueue<SyncJobs>(j => j.DryRunAsync(mode, null, CancellationToken.None))
            : jobs.Enqueue<SyncJobs>(j => j.FullSyncAsync(mode, null, CancellationToken.None));
        hangfire.SetRangeInHash("crm:full-sync", [new KeyValuePair<string, string>(key, jobId)]);
        await transaction.CommitAsync(CancellationToken.None);
        return jobId;
    }

    // The two-key advisory locks live apart from the engine's one-key locks (bulk, phones).
    private const int FullSyncLockSpace = 0x43524d; // "CRM"

    private static readonly HashSet<string> UnfinishedStates =
        [EnqueuedState.StateName, ProcessingState.StateName, ScheduledState.StateName, AwaitingState.StateName];

    private static string[] Sorted(IEnumerable<string> phones) => phones.Distinct().Order(StringComparer.Ordinal).ToArray();
}
