using System.Data;
using Crm.Jobs.Data;
using Crm.Jobs.Hosting;
using Crm.Jobs.Orders;
using Crm.Jobs.Phones;
using Crm.Jobs.Privacy;
using Crm.Jobs.Sync;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Npgsql.Replication;
using Npgsql.Replication.PgOutput;
using Npgsql.Replication.PgOutput.Messages;
using NpgsqlTypes;

namespace Crm.Jobs.Shop;

// Follows the shop's orders table by logical replication (Npgsql's LogicalReplicationConnection,
// pgoutput): a publication on the table, a slot that keeps every change until we confirm it.
// First start: the slot is created with an exported snapshot, the table is copied as of that
// snapshot, and the stream starts exactly where the copy ends. Every shop transaction is then
// applied to orders (with its customers' sync requests) in one CRM transaction, and the slot
// is told only after that commit: a crash replays at most the unconfirmed transactions, which
// applied_lsn and the keyed MERGE make harmless.
//
// One follower at a time: processes with job servers compete for a session advisory lock,
// and the slot itself admits one consumer. When the holder dies, its session (and the lock)
// go, and another process takes over within Crm:Shop:StatusInterval.
public sealed class ShopFollower(
    IOptions<ShopOptions> options, IConfiguration configuration, IServiceScopeFactory scopes,
    [FromKeyedServices(CrmDataSources.Jobs)] NpgsqlDataSource jobsDataSource,
    PhoneNormalizer phones, ErasedPhones erasedPhones, TimeProvider clock, CrmMetrics metrics, ILogger<ShopFollower> logger)
    : BackgroundService
{
    private static readonly TimeSpan FirstReconnectDelay = TimeSpan.FromSeconds(1);

    private readonly ShopFollowerStateStore _state = new(jobsDataSource, options);

    private ShopOptions Options => options.Value;

    // Read by the status loop while the stream loop writes them.
    private long _messagesSeen;
    private volatile bool _inTransaction;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Options.Enabled)
            return;
        await using var dataSource = SessionLocks.CreateDataSource(CrmJobsExtensions.FailFast(configuration.GetConnectionString("Crm")!));
        var delay = FirstReconnectDelay;
        while (!stoppingToken.IsCancellationRequested)
        {
            var started = TimeProvider.System.GetTimestamp();
            try
            {
                await using var crm = await SessionLocks.TryOpenHolderAsync(dataSource, AdvisoryLockKeys.ShopFollower, stoppingToken);
                if (crm is null)
                {
                    // Another process follows; ask again later (it may die).
                    await WaitAsync(Options.StatusInterval, stoppingToken);
                    continue;
                }
                // The lock holder measures the slot's retained WAL in every state, a failed follower's wait
                // included: a failed follower keeps its slot, and the slot keeps the shop's WAL.
                await using var walMonitor = ShopWalMonitor.Start(_state, options, logger, stoppingToken);
                var failed = false;
                try
                {
                    await FollowAsync(crm, stoppingToken);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    failed = e is ShopSetupException;
                    if (failed)
                        logger.LogError("Shop follower stopped: {Reason}", e.Message);
                    else
                        logger.LogWarning(e, "Shop follower lost a connection ({Reference}); reconnecting", FailureText.ReferenceOf(e));
                    // Ours is a reason to act on; any other exception's text may name the shop's
                    // host or user, so readers get what happened and the log the rest.
                    await TrySetStateAsync(crm, failed ? ShopFollowerStatus.Failed : ShopFollowerStatus.Reconnecting,
                        failed ? OneLine(e) : FailureText.Of(e));
                    if (failed)
                        delay = Options.MaxReconnectDelay;
                }
                // A failed follower waits holding the lock, so its slot stays measured (another process
                // would fail the same way); one that lost a connection lets go: another may reach the shop.
                if (failed)
                {
                    delay = await BackOffAsync(delay, started, stoppingToken);
                    continue;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Shop follower could not reach the CRM database; retrying");
            }
            delay = await BackOffAsync(delay, started, stoppingToken);
        }
    }

    // Waits the delay; returns the next one, doubled up to MaxReconnectDelay.
    private async Task<TimeSpan> BackOffAsync(TimeSpan delay, long started, CancellationToken ct)
    {
        // A follower that ran for a while starts its backoff afresh.
        if (TimeProvider.System.GetElapsedTime(started) > TimeSpan.FromMinutes(1))
            delay = FirstReconnectDelay;
        await WaitAsync(delay, ct);
        return TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, Options.MaxReconnectDelay.Ticks));
    }

    // Delays and the status timer run on real time whatever clock the validation uses.
    private static async Task WaitAsync(TimeSpan delay, CancellationToken ct)
    {
        try
        {
            await Task.Delay(delay, ct);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task FollowAsync(NpgsqlConnection crm, CancellationToken ct)
    {
        var o = Options;
        var applied = await _state.LoadAppliedLsnAsync(crm, ct);
        await using var shop = ShopDatabase.CreateConnection(o);
        await shop.OpenAsync(ct);
        await ShopDatabase.CheckAsync(shop, o, ct);
        if (await ShopDatabase.EnsurePublicationAsync(shop, o, ct))
            await _state.MarkPublicationCreatedAsync(crm, ct);

        await using var replication = new LogicalReplicationConnection(o.ConnectionString)
        {
            WalReceiverStatusInterval = o.StatusInterval,
        };
        await replication.Open(ct);

        PgOutputReplicationSlot slot;
        var walStatus = await ShopDatabase.SlotWalStatusAsync(shop, o.Slot, ct);
        if (applied is null || walStatus is null or "lost")
        {
            if (applied is not null)
                logger.LogWarning("Shop slot {Slot} is {Status}; changes since are unknown, so the table is copied again",
                    o.Slot, walStatus is null ? "gone" : "lost (max_slot_wal_keep_size)");
            // A slot without an applied snapshot is what an interrupted first start leaves; a lost one cannot stream.
            if (walStatus is not null)
                await replication.DropReplicationSlot(o.Slot, cancellationToken: ct);
            await _state.SetStateAsync(crm, ShopFollowerStatus.Snapshotting, null, ct);
            await using (var heartbeat = ShopSnapshotHeartbeat.Start(_state, o, logger, ct))
            {
                // The exported snapshot stays valid while this connection stays idle: the copy
                // runs on other connections, and streaming starts here right after.
                var created = await replication.CreatePgOutputReplicationSlot(
                    o.Slot, slotSnapshotInitMode: LogicalSlotSnapshotInitMode.Export, cancellationToken: ct);
                var snapshot = new ShopSnapshot(o, _state, jobsDataSource, erasedPhones, metrics, logger);
                var sync = await snapshot.CopyAsync(crm, NewRows(ShopSnapshot.CachedPhones), heartbeat, created.SnapshotName!, created.ConsistentPoint, ct);
                if (sync == ShopSnapshotSync.Full)
                    await QueueFullSyncAsync(ct);
                else
                    await DispatchAsync(sync == ShopSnapshotSync.PendingWrites, ct);
                applied = created.ConsistentPoint;
                slot = created;
            }
        }
        else
        {
            slot = new PgOutputReplicationSlot(o.Slot);
        }

        await _state.SetStateAsync(crm, ShopFollowerStatus.Following, null, ct);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var stream = StreamAsync(crm, replication, slot, applied.Value, stop.Token);
        var status = ReportStatusAsync(shop, replication, stop.Token);
        var first = await Task.WhenAny(stream, status);
        await stop.CancelAsync();
        try
        {
            await (first == stream ? status : stream);
        }
        catch (Exception e) when (e is OperationCanceledException || first.IsFaulted)
        {
            // Stopped because the other loop ended; the other loop's outcome is the one to report.
        }
        await first;
        ct.ThrowIfCancellationRequested();
        throw new InvalidOperationException("The shop's server ended the replication stream.");
    }

    // ---- The stream ----

    private async Task StreamAsync(NpgsqlConnection crm, LogicalReplicationConnection replication,
        PgOutputReplicationSlot slot, NpgsqlLogSequenceNumber applied, CancellationToken ct)
    {
        var o = Options;
        var changes = new ShopChangeReader(NewRows(), o);
        var batch = new ShopBatch(o.StageSliceRows);
        var replicationOptions = new PgOutputReplicationOptions(o.Publication, PgOutputProtocolVersion.V1);
        // A transaction this database already has (a replay after a crash) is only confirmed.
        var replay = false;
        // Open from the first staged slice of a shop transaction to its commit: whatever stops
        // the stream in between rolls it back, so nothing is half-applied.
        NpgsqlTransaction? transaction = null;
        try
        {
            await foreach (var message in replication.StartReplication(slot, replicationOptions, ct))
            {
                Interlocked.Increment(ref _messagesSeen);
                switch (message)
                {
                    case BeginMessage begin:
                        _inTransaction = true;
                        // Its commit comes before the end of the last one applied: it is that one or older.
                        replay = begin.TransactionFinalLsn < applied;
                        batch.Clear();
                        break;
                    case CommitMessage commit:
                        if (!replay && commit.TransactionEndLsn > applied)
                        {
                            if (!batch.IsEmpty)
                            {
                                transaction ??= await crm.BeginTransactionAsync(ct);
                                await ApplyAsync(crm, transaction, batch, commit.TransactionEndLsn, ct);
                            }
                            applied = commit.TransactionEndLsn;
                        }
                        if (transaction is not null)
                            await transaction.DisposeAsync();
                        transaction = null;
                        replication.SetReplicationStatus(applied);
                        await replication.SendStatusUpdate(ct);
                        _inTransaction = false;
                        break;
                    case RelationMessage:
                        await changes.ReadAsync(message, batch, ct);
                        break;
                    default:
                        // A replay's rows are read past; a big transaction's go to the CRM a slice at a time.
                        if (replay)
                            break;
                        await changes.ReadAsync(message, batch, ct);
                        if (batch.SliceFull)
                            await batch.StageAsync(crm, transaction ??= await crm.BeginTransactionAsync(ct), ct);
                        break;
                }
            }
        }
        finally
        {
            if (transaction is not null)
                await transaction.DisposeAsync();
        }
    }

    // At the shop transaction's commit, in the CRM transaction that staged its earlier slices (if any).
    private async Task ApplyAsync(
        NpgsqlConnection crm, NpgsqlTransaction transaction, ShopBatch batch, NpgsqlLogSequenceNumber lsn, CancellationToken ct)
    {
        await batch.StageLastAsync(crm, transaction, ct);
        var (syncRequested, skippedErased) = await ShopBatch.ApplyStagedAsync(
            crm, transaction, erasedPhones, batch.Truncated, analyze: batch.Count > 1_000, ct);
        var rejected = await batch.RecordRejectionsAsync(crm, transaction, lsn, ct);
        await _state.TransactionAppliedAsync(crm, transaction, lsn, batch.Inserts + batch.Updates + batch.Deletes, rejected, ct);
        await transaction.CommitAsync(ct);
        metrics.ShopApplied("insert", batch.Inserts);
        metrics.ShopApplied("update", batch.Updates);
        metrics.ShopApplied("delete", batch.Deletes);
        metrics.ShopRejected(rejected);
        metrics.ShopApplied("skipped_erased", skippedErased);
        await DispatchAsync(syncRequested, ct);
    }

    // After the commit, like an API write: the shared pending-writes job makes the customers exact.
    private async Task DispatchAsync(bool syncRequested, CancellationToken ct)
    {
        if (!syncRequested)
            return;
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<SyncScheduler>().DispatchAsync(ct);
    }

    // The full auto sync the first snapshot asked for (committed with it: the sweeper queues it
    // if this process dies first).
    private async Task QueueFullSyncAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<SyncScheduler>().EnqueueFullSyncAsync(SyncMode.Auto, ct);
    }

    // ---- Status ----

    // Every StatusInterval: the lag, the heartbeat, and — while no transaction is pending — the
    // position the server last reported, so an idle slot does not hold WAL that other tables'
    // writes produce (PostgreSQL's own subscriber does the same). Safe only when no message
    // arrived for a whole interval: then everything up to that position has been applied.
    private async Task ReportStatusAsync(NpgsqlConnection shop, LogicalReplicationConnection replication, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(Options.StatusInterval);
        (long Seen, NpgsqlLogSequenceNumber Received)? previous = null;
        while (await timer.WaitForNextTickAsync(ct))
        {
            var seen = Interlocked.Read(ref _messagesSeen);
            if (previous is { } p && p.Seen == seen && !_inTransaction && p.Received > replication.LastFlushedLsn)
                replication.SetReplicationStatus(p.Received);
            previous = (seen, replication.LastReceivedLsn);

            var lag = await ShopDatabase.LagBytesAsync(shop, Options.Slot, ct);
            metrics.ShopLag(lag);
            await _state.HeartbeatAsync(lag, ct);
        }
    }

    // Best effort: the state row says why we stopped unless the CRM database is what failed.
    private async Task TrySetStateAsync(NpgsqlConnection crm, ShopFollowerStatus state, string error)
    {
        try
        {
            if (crm.State == ConnectionState.Open)
                await _state.SetStateAsync(crm, state, error, CancellationToken.None);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Could not record the shop follower's state {State}", state);
        }
    }

    private ShopRows NewRows(int cachedPhones = OrderImporter.MaxCachedPhones) =>
        new(new OrderInputValidator(clock), phones, Options, clock, cachedPhones);

    private static string OneLine(Exception e) => e.Message.ReplaceLineEndings(" ");
}
