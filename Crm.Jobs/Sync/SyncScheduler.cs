using Crm.Jobs.Categories;
using Crm.Jobs.Data;
using Hangfire;
using Hangfire.States;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Crm.Jobs.Sync;

// Everything that asks for a sync goes through here: the API, the import and the CLI.
public sealed class SyncScheduler(
    NpgsqlDataSource dataSource, IBackgroundJobClient jobs, JobStorage storage, IOptions<SyncOptions> options)
{
    private const string RecordSql = """
        INSERT INTO customer_sync_requests AS r (phone, version, synced_version, requested_at)
        SELECT phone, 1, 0, now() FROM unnest(@phones) AS p(phone)
        ORDER BY phone
        ON CONFLICT (phone) DO UPDATE SET version = r.version + 1, requested_at = excluded.requested_at
        """;

    // Inside the caller's transaction, with the order writes: these customers need an auto
    // sync. Committed together, so no crash can lose the request (the sweeper finds it).
    public static Task RecordAsync(CrmDbContext db, IEnumerable<string> phones, CancellationToken ct) =>
        db.Database.ExecuteSqlRawAsync(RecordSql, [new NpgsqlParameter("phones", Sorted(phones))], ct);

    public static async Task RecordAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IEnumerable<string> phones, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(RecordSql, connection, transaction) { CommandTimeout = 0 };
        command.Parameters.AddWithValue("phones", Sorted(phones));
        await command.ExecuteNonQueryAsync(ct);
    }

    // After the commit: make sure a job that has not started yet will sync this customer,
    // and return its id. A burst of writes shares one queued job; a job that has already
    // started clears the claim first, so the write after it gets a job of its own.
    public async Task<string> DispatchAsync(string phone, CancellationToken ct)
    {
        await using (var claim = dataSource.CreateCommand("""
            UPDATE customer_sync_requests SET enqueued_at = now(), job_id = NULL
            WHERE phone = @phone AND (enqueued_at IS NULL OR enqueued_at < now() - @timeout)
            RETURNING phone
            """))
        {
            claim.Parameters.AddWithValue("phone", phone);
            claim.Parameters.AddWithValue("timeout", options.Value.PendingClaimTimeout);
            if (await claim.ExecuteScalarAsync(ct) is null)
            {
                await using var pending = dataSource.CreateCommand("SELECT job_id FROM customer_sync_requests WHERE phone = @phone");
                pending.Parameters.AddWithValue("phone", phone);
                // Null while the claiming writer has not stored its job id yet: enqueue one more.
                if (await pending.ExecuteScalarAsync(ct) is string queuedJobId)
                    return queuedJobId;
            }
        }

        var jobId = jobs.Enqueue<SyncJobs>(j => j.CustomerSyncAsync(phone, null, CancellationToken.None));
        await using var store = dataSource.CreateCommand(
            "UPDATE customer_sync_requests SET job_id = @job_id WHERE phone = @phone AND enqueued_at IS NOT NULL AND job_id IS NULL");
        store.Parameters.AddWithValue("phone", phone);
        store.Parameters.AddWithValue("job_id", jobId);
        await store.ExecuteNonQueryAsync(ct);
        return jobId;
    }

    public string EnqueuePendingSync(string reason) =>
        jobs.Enqueue<SyncJobs>(j => j.PendingSyncAsync(reason, null, CancellationToken.None));

    public string EnqueueStatistics(string phone) =>
        jobs.Enqueue<SyncJobs>(j => j.CustomerStatisticsAsync(phone, null, CancellationToken.None));

    public string EnqueueRecalculation() =>
        jobs.Enqueue<RecalculateCategoriesJob>(j => j.RunAsync(CancellationToken.None));

    // One full sync per mode at a time: while one is queued, retrying or running, asking
    // again returns its id instead of queueing another.
    public string EnqueueFullSync(SyncMode mode)
    {
        var key = EnumText.ToText(mode);
        using var connection = storage.GetConnection();
        using (connection.AcquireDistributedLock($"crm:full-sync:{key}", TimeSpan.FromSeconds(30)))
        {
            var existing = connection.GetAllEntriesFromHash("crm:full-sync")?.GetValueOrDefault(key);
            if (existing is not null && UnfinishedStates.Contains(connection.GetStateData(existing)?.Name ?? ""))
                return existing;

            var jobId = jobs.Enqueue<SyncJobs>(j => j.FullSyncAsync(mode, null, CancellationToken.None));
            connection.SetRangeInHash("crm:full-sync", [new KeyValuePair<string, string>(key, jobId)]);
            return jobId;
        }
    }

    private static readonly HashSet<string> UnfinishedStates =
        [EnqueuedState.StateName, ProcessingState.StateName, ScheduledState.StateName, AwaitingState.StateName];

    private static string[] Sorted(IEnumerable<string> phones) => phones.Distinct().Order(StringComparer.Ordinal).ToArray();
}
