using Crm.Jobs.Data;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Crm.Jobs.Sync;

// Keeps the sync_runs history true and bounded: a run whose worker died is marked abandoned,
// and old runs go once Hangfire no longer stores their jobs.
public sealed class SyncRuns([FromKeyedServices(CrmDataSources.Jobs)] NpgsqlDataSource dataSource, TimeProvider clock, IOptions<SyncOptions> options, ILogger<SyncRuns> logger)
{
    // A running run's holder session (its pid recorded by SyncEngine) keeps one of the
    // engine's advisory locks until the run has recorded its end, and PostgreSQL releases
    // them only when that session ends: a running run whose holder holds none will never finish.
    public async Task<int> AbandonRunsWithoutHolderAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE sync_runs r
            SET status = 'abandoned', finished_at = @now,
                error = 'Abandoned: the database session that held the run''s lock (PostgreSQL backend '
                        || coalesce(r.holder_pid::text, 'unknown')
                        || ') ended before the run finished; its process was killed or lost the database.'
            WHERE r.status = 'running'
              AND NOT EXISTS (
                  SELECT 1 FROM pg_locks l
                  WHERE l.pid = r.holder_pid AND l.locktype = 'advisory' AND l.granted
                    -- A bigint key is split into classid (high half) and objid (low half).
                    AND l.objsubid = 1 AND ((l.classid::bigint << 32) | l.objid::bigint) IN (@bulk_lock, @full_sync_lock))
            RETURNING r.id, r.job_id, r.holder_pid
            """);
        command.Parameters.AddWithValue("now", clock.GetUtcNow().UtcDateTime);
        command.Parameters.AddWithValue("bulk_lock", SyncEngine.BulkLockKey);
        command.Parameters.AddWithValue("full_sync_lock", SyncEngine.FullSyncLockKey);
        var abandoned = 0;
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            abandoned++;
            logger.LogWarning("Sync run {RunId} (job {JobId}) abandoned: its holder session {HolderPid} is gone",
                reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetInt32(2));
        }
        return abandoned;
    }

    // Runs that finished more than Crm:Sync:RunRetentionDays ago, except those whose job
    // Hangfire still shows (a failed job stays until someone deletes it) and those whose
    // changes the ledger still holds (a run stays revertable as long as its changes do).
    public async Task<int> PruneAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            DELETE FROM sync_runs r
            WHERE r.finished_at < @cutoff
              AND NOT EXISTS (SELECT 1 FROM hangfire.job j WHERE j.id::text = r.job_id)
              AND NOT EXISTS (SELECT 1 FROM customer_changes ch WHERE ch.run_id = r.id)
            """);
        command.Parameters.AddWithValue("cutoff", clock.GetUtcNow().UtcDateTime.AddDays(-options.Value.RunRetentionDays));
        var pruned = await command.ExecuteNonQueryAsync(ct);
        logger.LogInformation("Pruned {Count} sync runs older than {Days} days", pruned, options.Value.RunRetentionDays);
        return pruned;
    }

    // Which of these jobs Hangfire still stores (it drops a succeeded job a day after it
    // finished): a run links only to those. Reads the job ids as text from its one column.
    public static NpgsqlCommand StoredJobIdsCommand(NpgsqlDataSource dataSource, IEnumerable<string?> jobIds)
    {
        var command = dataSource.CreateCommand("SELECT id::text FROM hangfire.job WHERE id = ANY(@ids)");
        command.Parameters.AddWithValue("ids", jobIds.Select(id => long.TryParse(id, out var n) ? n : (long?)null).OfType<long>().Distinct().ToArray());
        return command;
    }

    public static async Task<HashSet<string>> StoredJobIdsAsync(NpgsqlDataSource dataSource, IEnumerable<string?> jobIds, CancellationToken ct)
    {
        var stored = new HashSet<string>();
        await using var command = StoredJobIdsCommand(dataSource, jobIds);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            stored.Add(reader.GetString(0));
        return stored;
    }
}
