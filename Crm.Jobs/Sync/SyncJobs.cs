using System.ComponentModel;
using System.Diagnostics;
using Crm.Jobs.Data;
using Crm.Jobs.Hosting;
using Hangfire;
using Hangfire.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Crm.Jobs.Sync;

// The Hangfire jobs around the sync engine. They take identities (a mode, a customer id),
// never personal data: Hangfire keeps a job's arguments and display name for days and shows
// them on its dashboard. They are safe to run again, and let every failure through so that
// Hangfire retries it.
public sealed class SyncJobs(
    SyncEngine engine, SyncScheduler scheduler, SyncRuns runs, [FromKeyedServices(CrmDataSources.Jobs)] NpgsqlDataSource dataSource, IOptions<SyncOptions> options)
{
    public const string DefaultSyncRecurringJobId = "sync-default";
    public const string PendingSyncRecurringJobId = "sync-pending";
    public const string PruneRunsRecurringJobId = "sync-runs-prune";

    [Queue(JobQueues.Bulk)]
    [DisplayName("Full sync ({0})")]
    [AutomaticRetry(Attempts = 5, DelaysInSeconds = [10, 60, 300, 900, 3600])]
    public async Task<SyncCounts> FullSyncAsync(SyncMode mode, PerformContext? context, CancellationToken ct)
    {
        // A retried full sync starts here: the run its killed attempt left behind ends first.
        await runs.AbandonRunsWithoutHolderAsync(ct);
        // A full sync asked for by a load (SyncScheduler.RequestFullSyncAsync) and seen now:
        // the load's orders committed with it, so this run reads them. Auto (what the load asks
        // for) and force create the customers and fill their empty contact fields; default
        // leaves those fields and statsOnly creates nobody, so they do not serve it.
        var request = mode is SyncMode.Auto or SyncMode.Force ? await FullSyncRequestedAtAsync(ct) : null;
        var counts = await engine.RunAsync(mode, new SyncScope.All(), context?.BackgroundJob.Id, ct);
        if (request is not null)
        {
            // Only the request this run saw: a newer load asks again.
            await using var clear = dataSource.CreateCommand(
                "UPDATE pending_sync_dispatch SET full_sync_requested_at = NULL WHERE id = 1 AND full_sync_requested_at = @seen");
            clear.Parameters.AddWithValue("seen", request.Value);
            await clear.ExecuteNonQueryAsync(ct);
        }
        return counts;
    }

    private async Task<DateTime?> FullSyncRequestedAtAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("SELECT full_sync_requested_at FROM pending_sync_dispatch WHERE id = 1");
        return await command.ExecuteScalarAsync(ct) as DateTime?;
    }

    // A full sync run and rolled back: what it would change (SyncEngine.DryRunAsync).
    [Queue(JobQueues.Bulk)]
    [DisplayName("Dry run of a full sync ({0})")]
    [AutomaticRetry(Attempts = 3, DelaysInSeconds = [10, 60, 300])]
    public async Task<SyncDryRunResult> DryRunAsync(SyncMode mode, PerformContext? context, CancellationToken ct)
    {
        await runs.AbandonRunsWithoutHolderAsync(ct);
        return await engine.DryRunAsync(mode, context?.BackgroundJob.Id, ct);
    }

    // The recurring `sync-default` (and the dashboard's Trigger now) asks like POST /api/sync
    // does: a full sync of the mode already queued or running is joined, not doubled.
    // Returns the full sync's job id. On the default queue, so it never waits behind that sync.
    [Queue(JobQueues.Default)]
    [DisplayName("Queue a full sync ({0}) unless one is queued or running")]
    [AutomaticRetry(Attempts = 5, DelaysInSeconds = [10, 60, 300, 900, 3600])]
    public Task<string> QueueFullSyncAsync(SyncMode mode, CancellationToken ct) =>
        scheduler.EnqueueFullSyncAsync(mode, ct);

    // Recurring `sync-runs-prune`: ends runs whose worker died, then drops old runs.
    [Queue(JobQueues.Default)]
    [DisplayName("Prune sync runs")]
    [AutomaticRetry(Attempts = 3, DelaysInSeconds = [10, 60, 300])]
    public async Task<int> PruneRunsAsync(CancellationToken ct)
    {
        await runs.AbandonRunsWithoutHolderAsync(ct);
        return await runs.PruneAsync(ct);
    }

    [Queue(JobQueues.Bulk)]
    [DisplayName("Sync customers with pending changes ({0})")]
    [AutomaticRetry(Attempts = 10, DelaysInSeconds = [2, 5, 10, 30, 60, 300, 900, 1800, 3600, 3600])]
    public Task<SyncCounts> PendingSyncAsync(string reason, PerformContext? context, CancellationToken ct) =>
        engine.RunAsync(SyncMode.Auto, new SyncScope.Pending(), context?.BackgroundJob.Id, ct);

    // The job order writes share (SyncScheduler.DispatchAsync): every customer whose
    // writes no finished sync has seen, in one set-based run. On the default queue, so it
    // never waits for the bulk queue's one worker behind a full sync (only for its lock).
    [Queue(JobQueues.Default)]
    [DisplayName("Sync customers of pending order writes")]
    [AutomaticRetry(Attempts = 10, DelaysInSeconds = [2, 5, 10, 30, 60, 300, 900, 1800, 3600, 3600])]
    public async Task<SyncCounts> PendingWritesSyncAsync(PerformContext? context, CancellationToken ct)
    {
        // A burst: this job was claimed less than the window after the last pending sync
        // started. It then waits for the writes to pause; the claim is still ours while we
        // wait, so the writes meanwhile share this job. On an idle service it syncs at once.
        if (!options.Value.AdaptiveWriteWindow)
            await Task.Delay(options.Value.WriteBatchWindow, ct);
        else if (await ClaimedDuringABurstAsync(ct))
            await WaitForTheWritesToPauseAsync(ct);
        return await engine.RunAsync(SyncMode.Auto, new SyncScope.Pending(), context?.BackgroundJob.Id, ct);
    }

    // Until no write has asked for a sync for WriteQuietPeriod, or WriteBatchMaxWait has
    // passed. The newest pending request is the first entry of the partial index of pending
    // requests (ix_customer_sync_requests_dirty): one index tuple a look.
    private const string QuietForSql = """
        SELECT clock_timestamp() - max(requested_at) FROM customer_sync_requests WHERE version > synced_version
        """;

    private async Task WaitForTheWritesToPauseAsync(CancellationToken ct)
    {
        var (quietPeriod, maxWait) = (options.Value.WriteQuietPeriod, options.Value.WriteBatchMaxWait);
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < maxWait)
        {
            await using var command = dataSource.CreateCommand(QuietForSql);
            var quietFor = await command.ExecuteScalarAsync(ct) is TimeSpan since ? since : quietPeriod;
            if (quietFor >= quietPeriod)
                return;
            // The look itself took time: the wait may be over.
            var left = maxWait - waited.Elapsed;
            if (left <= TimeSpan.Zero)
                return;
            await Task.Delay(quietPeriod - quietFor < left ? quietPeriod - quietFor : left, ct);
        }
    }

    // A job's claim (enqueued_at) is made after the last pending sync cleared the one before and
    // stamped its start (SyncScheduler.ReleaseDispatchClaimAsync). A job without a live claim
    // (DispatchAsync's fallback, or another pending run cleared it) is judged by the time now;
    // no pending sync ever started: idle.
    private const string ClaimedDuringABurstSql = """
        SELECT coalesce(coalesce(enqueued_at, now()) - last_sync_started_at < @window, false)
        FROM pending_sync_dispatch WHERE id = 1
        """;

    private async Task<bool> ClaimedDuringABurstAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(ClaimedDuringABurstSql);
        command.Parameters.AddWithValue("window", options.Value.WriteBatchWindow);
        return (bool)(await command.ExecuteScalarAsync(ct))!;
    }

    // By id, and the phone read when the job runs: the job stores no personal data.
    [Queue(JobQueues.Default)]
    [DisplayName("Update statistics of customer {0}")]
    [AutomaticRetry(Attempts = 10, DelaysInSeconds = [2, 5, 10, 30, 60, 300, 900, 1800, 3600, 3600])]
    public async Task<SyncCounts> CustomerStatisticsAsync(long customerId, PerformContext? context, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("SELECT phone FROM customers WHERE id = @id");
        command.Parameters.AddWithValue("id", customerId);
        // A customer deleted (or erased) since the job was queued has no statistics left to
        // update: the job succeeds with zero counts instead of failing into retries.
        if (await command.ExecuteScalarAsync(ct) is not string phone)
            return new SyncCounts(0, 0, 0, 0, 0, 0, 0);
        return await engine.RunAsync(SyncMode.StatsOnly, SyncScope.Of(phone), context?.BackgroundJob.Id, ct);
    }

    // The safety net behind DispatchAsync: a request committed with its order whose job was
    // never enqueued (the process died in between) is picked up here within minutes. So is a
    // full sync asked for by a load: queued again (or joined while it runs) until one succeeds.
    [Queue(JobQueues.Bulk)]
    [DisplayName("Sweep customer syncs that never got a job")]
    [AutomaticRetry(Attempts = 3, DelaysInSeconds = [10, 30, 60])]
    public async Task<SyncCounts?> SweepPendingAsync(PerformContext? context, CancellationToken ct)
    {
        // Every minute, so a run whose worker died shows as abandoned soon after its session ends.
        await runs.AbandonRunsWithoutHolderAsync(ct);
        await using (var full = dataSource.CreateCommand(
            "SELECT full_sync_requested_at < now() - @timeout FROM pending_sync_dispatch WHERE id = 1"))
        {
            full.Parameters.AddWithValue("timeout", options.Value.PendingClaimTimeout);
            if (await full.ExecuteScalarAsync(ct) is true)
                await scheduler.EnqueueFullSyncAsync(SyncMode.Auto, ct);
        }
        await using var command = dataSource.CreateCommand("""
            SELECT EXISTS (
                SELECT 1 FROM customer_sync_requests r
                WHERE r.version > r.synced_version AND r.requested_at < now() - @timeout
                  -- A phone the database refused waits for its retry time (SyncEngine).
                  AND NOT EXISTS (
                      SELECT 1 FROM sync_errors e
                      WHERE e.phone = r.phone AND e.retry_at > now() AND e.request_version >= r.version))
              AND NOT EXISTS (
                SELECT 1 FROM pending_sync_dispatch WHERE enqueued_at >= now() - @timeout)
            """);
        command.Parameters.AddWithValue("timeout", options.Value.PendingClaimTimeout);
        if (!(bool)(await command.ExecuteScalarAsync(ct))!)
            return null;
        return await engine.RunAsync(SyncMode.Auto, new SyncScope.Pending(), context?.BackgroundJob.Id, ct);
    }
}
