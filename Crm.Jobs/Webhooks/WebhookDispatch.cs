using Hangfire;
using Hangfire.States;
using Npgsql;

namespace Crm.Jobs.Webhooks;

// Gives every enabled subscription with something to deliver one live delivery job, and
// never a second while one is queued, retrying or running (a dead receiver is one job in
// Retries, not a pile of them). The job's id is kept on the subscription; when that job has
// ended (succeeded, failed for good, deleted) the next dispatch enqueues another.
public sealed class WebhookDispatch(NpgsqlDataSource dataSource, IBackgroundJobClient jobs, JobStorage storage)
{
    private static readonly HashSet<string> LiveStates =
        [EnqueuedState.StateName, ProcessingState.StateName, ScheduledState.StateName, AwaitingState.StateName];

    // The enabled subscriptions with something to deliver. Each lookup is the first entry of
    // a partial index (pending events, undelivered messages) in its order: written as EXISTS,
    // a planner with stale statistics chose a scan of every event (docs/BENCHMARKS.md, webhooks).
    public const string WaitingSql = """
        SELECT w.id, w.delivery_job_id FROM webhooks w
        WHERE w.enabled
          AND ((SELECT e.id FROM webhook_events e WHERE e.webhook_id = w.id AND e.message_id IS NULL ORDER BY e.id LIMIT 1) IS NOT NULL
               OR (SELECT m.id FROM webhook_messages m WHERE m.webhook_id = w.id AND m.delivered_at IS NULL ORDER BY m.id LIMIT 1) IS NOT NULL)
        """;

    public async Task DispatchAllAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(WaitingSql);
        var waiting = new List<(long Id, string? JobId)>();
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
                waiting.Add((reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1)));
        }
        foreach (var (id, jobId) in waiting)
            await EnsureJobAsync(id, jobId, ct);
    }

    // The subscription's live delivery job, enqueued if it has none.
    public async Task<string> DispatchAsync(long webhookId, CancellationToken ct) =>
        await EnsureJobAsync(webhookId, await StoredJobIdAsync(webhookId, ct), ct);

    // A subscription enabled again: its job, if waiting for a retry, runs now instead.
    public async Task<string> DeliverNowAsync(long webhookId, CancellationToken ct)
    {
        var jobId = await DispatchAsync(webhookId, ct);
        if (State(jobId) == ScheduledState.StateName)
            jobs.Requeue(jobId);
        return jobId;
    }

    private async Task<string?> StoredJobIdAsync(long webhookId, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("SELECT delivery_job_id FROM webhooks WHERE id = @id");
        command.Parameters.AddWithValue("id", webhookId);
        return await command.ExecuteScalarAsync(ct) as string;
    }

    private async Task<string> EnsureJobAsync(long webhookId, string? jobId, CancellationToken ct)
    {
        if (jobId is not null && IsLive(jobId))
            return jobId;
        var newJobId = jobs.Enqueue<WebhookJobs>(j => j.DeliverAsync(webhookId, null, CancellationToken.None));
        // Compare and set: of two dispatchers that saw the same ended job, one keeps its job.
        await using var store = dataSource.CreateCommand("""
            UPDATE webhooks SET delivery_job_id = @new WHERE id = @id AND delivery_job_id IS NOT DISTINCT FROM @old
            """);
        store.Parameters.AddWithValue("new", newJobId);
        store.Parameters.AddWithValue("id", webhookId);
        store.Parameters.AddWithValue("old", NpgsqlTypes.NpgsqlDbType.Text, (object?)jobId ?? DBNull.Value);
        if (await store.ExecuteNonQueryAsync(CancellationToken.None) == 1)
            return newJobId;
        // Another dispatcher stored its job first: that one delivers (ours, if it started
        // already, only waits for the subscription's lock and finds the events sent), and it is
        // the id to answer.
        jobs.Delete(newJobId);
        return await StoredJobIdAsync(webhookId, CancellationToken.None) ?? newJobId;
    }

    private bool IsLive(string jobId) => State(jobId) is { } state && LiveStates.Contains(state);

    private string? State(string jobId)
    {
        using var connection = storage.GetConnection();
        return connection.GetStateData(jobId)?.Name;
    }
}
