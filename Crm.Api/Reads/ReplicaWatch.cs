using Crm.Jobs.Data;
using Crm.Jobs.Hosting;
using Npgsql;
using NpgsqlTypes;

namespace Crm.Api.Reads;

// Checks the reads' server a few times a second (at least four times per MaxReadLag), so a
// request only reads ReadReplica.Latest and never waits for a check of its own.
public sealed class ReplicaWatch(ReadReplica replica, TimeProvider clock, CrmMetrics metrics, ILogger<ReplicaWatch> logger)
    : BackgroundService
{
    // A standby that has replayed nothing since it started has no replay time: as far behind as can be.
    private static readonly TimeSpan Unknown = TimeSpan.FromDays(365);

    // The primary's position is asked first: a standby that has replayed at least that far
    // had everything the primary had written when it was asked.
    private const string PrimaryPositionSql = "SELECT pg_current_wal_lsn()";

    // On a standby: what it replayed, whether it replayed all it received, and the commit time
    // of the last transaction it replayed. A server that is not in recovery is a primary (the
    // connection string's prefer-standby fell back to it, or the standby was promoted).
    private const string StateSql = """
        SELECT pg_is_in_recovery(),
               CASE WHEN pg_is_in_recovery() THEN coalesce(pg_last_wal_replay_lsn(), '0/0')
                    ELSE pg_current_wal_insert_lsn() END,
               pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn(),
               extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8
        """;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (replica.Standby is not { } standby)
            return;
        var interval = TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(1).Ticks, replica.MaxLag.Ticks / 4));
        using var timer = new PeriodicTimer(interval, clock);
        bool? serving = null;
        do
        {
            var state = await CheckAsync(standby, stoppingToken);
            replica.Latest = state;
            metrics.ReadLag(state?.Lag);
            var now = state is not null && replica.Serves(null, clock.GetUtcNow().UtcDateTime);
            if (now != serving)
            {
                if (now)
                    logger.LogInformation("Reads go to the standby ({Lag:F3} s behind)", state!.Lag.TotalSeconds);
                else
                    logger.LogWarning("Reads go to the primary: the standby is {Reason}",
                        state is null ? "not answering" : $"{state.Lag.TotalSeconds:F1} s behind");
                serving = now;
            }
        }
        while (await Wait(timer, stoppingToken));
    }

    // A check that fails is an answer, not an error to raise: the standby is away or its
    // primary is, and reads go to the primary until a check succeeds again.
    private async Task<ReplicaState?> CheckAsync(NpgsqlDataSource standby, CancellationToken ct)
    {
        NpgsqlLogSequenceNumber? primaryAt = null;
        try
        {
            // The pools' own command timeout (Crm:Database:CommandTimeout): a hung server is a failed check.
            await using var command = replica.Primary.CreateCommand(PrimaryPositionSql);
            primaryAt = (NpgsqlLogSequenceNumber?)await command.ExecuteScalarAsync(ct);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            // The primary is away (a failover under way): the standby is judged by itself.
        }

        try
        {
            var checkedAt = clock.GetUtcNow().UtcDateTime;
            await using var command = standby.CreateCommand(StateSql);
            await using var row = await command.ExecuteReaderAsync(ct);
            await row.ReadAsync(ct);
            var isStandby = row.GetBoolean(0);
            var replayed = row.GetFieldValue<NpgsqlLogSequenceNumber>(1);
            var lag = !isStandby ? TimeSpan.Zero
                : primaryAt is { } at && replayed >= at ? TimeSpan.Zero
                // Without the primary, everything the standby received is all it can have: with a
                // synchronous standby, every acknowledged commit.
                : primaryAt is null && row.GetBoolean(2) ? TimeSpan.Zero
                : row.IsDBNull(3) ? Unknown
                : TimeSpan.FromSeconds(Math.Max(0, row.GetDouble(3)));
            return new ReplicaState(isStandby, lag, replayed, checkedAt);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            standby.Clear();
            return null;
        }
    }

    private static async Task<bool> Wait(PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            return await timer.WaitForNextTickAsync(ct);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
