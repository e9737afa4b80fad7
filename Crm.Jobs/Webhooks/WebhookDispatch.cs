using Crm.Jobs.Data;
using Hangfire;
using Hangfire.States;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Crm.Jobs.Webhooks;

// Gives every lane of an enabled subscription with something to deliver one live delivery
// job, and never a second while one is queued, retrying or running (a dead receiver is one
// job per lane in Retries, not a pile of them). The job's id is kept on the lane
// (webhook_lanes); when that job has ended (succeeded, failed for good, deleted) the next
// dispatch enqueues another.
public sealed class WebhookDispatch(
    NpgsqlDataSource dataSource, IBackgroundJobClient jobs, JobStorage storage, IOptions<WebhookOptions> options)
{
    private static readonly HashSet<string> LiveStates =
        [EnqueuedState.StateName, ProcessingState.StateName, ScheduledState.StateName, AwaitingState.StateName];

    // The enabled subscriptions with something to deliver. Each lookup is the first entry of
    // a partial index (pending events, undelivered messages) in its order: written as EXISTS,
    // a planner with stale statistics chose a scan of every event (docs/BENCHMARKS.md, webhooks).
    public const string WaitingSql = """
        SELECT w.id FROM webhooks w
        WHERE w.enabled
          AND ((SELECT e.id FROM webhook_events e WHERE e.webhook_id = w.id AND e.message_id IS NULL ORDER BY e.id LIMIT 1) IS NOT NULL
               OR (SELECT m.id FROM webhook_messages m WHERE m.webhook_id = w.id AND m.delivered_at IS NULL ORDER BY m.id LIMIT 1) IS NOT NULL)
        """;

    // A subscription's lanes with something to deliver, with their jobs: the lanes of its
    // undelivered messages (under whatever lane count formed them) and of its pending events
    // under @lanes. Reads the subscription's pending events: the dispatcher asks only while a
    // lane of it has no live job.
    public const string LanesSql = $"""
        SELECT l.lane, wl.delivery_job_id
        FROM (SELECT m.lane FROM webhook_messages m WHERE m.webhook_id = @id AND m.delivered_at IS NULL
              UNION
              SELECT {WebhookLanes.OfEventSql} FROM webhook_events WHERE webhook_id = @id AND message_id IS NULL) l
        LEFT JOIN webhook_lanes wl ON wl.webhook_id = @id AND wl.lane = l.lane
        """;

    public async Task DispatchAllAsync(CancellationToken ct)
    {
        List<long> waiting;
        await using (var connection = await dataSource.OpenConnectionAsync(ct))
            waiting = await connection.QueryAsync(WaitingSql, null, r => r.GetInt64(0), ct);
        foreach (var id in waiting)
            await DispatchAsync(id, ct);
    }

    // A job for each of the subscription's lanes with something to deliver; unless every lane
    // it has had a job for still has a live one (they look for more before they end).
    public async Task DispatchAsync(long webhookId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var known = await connection.QueryAsync("SELECT delivery_job_id FROM webhook_lanes WHERE webhook_id = @id", null,
            r => r.IsDBNull(0) ? null : r.GetString(0), ct, ("id", webhookId));
        if (known.Count > options.Value.Lanes && known.All(jobId => jobId is not null && IsLive(jobId)))
            return;
        foreach (var (lane, jobId) in await LanesAsync(connection, webhookId, ct))
            await EnsureJobAsync(connection, webhookId, lane, jobId, ct);
    }

    // The lane's live delivery job, enqueued if it has none.
    public async Task<string> DispatchAsync(long webhookId, int lane, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var jobId = await connection.ScalarAsync<string>(
            "SELECT delivery_job_id FROM webhook_lanes WHERE webhook_id = @id AND lane = @lane", ct, ("id", webhookId), ("lane", lane));
        return await EnsureJobAsync(connection, webhookId, lane, jobId, ct);
    }

    // A subscription enabled again: its lanes' jobs, where waiting for a retry, run now instead.
    public async Task DeliverNowAsync(long webhookId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        foreach (var (lane, storedJobId) in await LanesAsync(connection, webhookId, ct))
        {
            var jobId = await EnsureJobAsync(connection, webhookId, lane, storedJobId, ct);
            if (State(jobId) == ScheduledState.StateName)
                jobs.Requeue(jobId);
        }
    }

    private Task<List<(int Lane, string? JobId)>> LanesAsync(NpgsqlConnection connection, long webhookId, CancellationToken ct) =>
        connection.QueryAsync(LanesSql, null, r => (r.GetInt32(0), r.IsDBNull(1) ? null : r.GetString(1)), ct,
            ("id", webhookId), ("lanes", options.Value.Lanes));

    private async Task<string> EnsureJobAsync(NpgsqlConnection connection, long webhookId, int lane, string? jobId, CancellationToken ct)
    {
        if (jobId is not null && IsLive(jobId))
            return jobId;
        var newJobId = jobs.Enqueue<WebhookJobs>(j => j.DeliverAsync(webhookId, lane, null, CancellationToken.None));
        // Compare and set: of two dispatchers that saw the same ended job, one keeps its job.
        var stored = await connection.ExecuteAsync("""
            INSERT INTO webhook_lanes (webhook_id, lane, delivery_job_id) VALUES (@id, @lane, @new)
            ON CONFLICT (webhook_id, lane) DO UPDATE SET delivery_job_id = excluded.delivery_job_id
            WHERE webhook_lanes.delivery_job_id IS NOT DISTINCT FROM @old
            """, CancellationToken.None, ("id", webhookId), ("lane", lane), ("new", newJobId), ("old", jobId));
        if (stored == 1)
            return newJobId;
        // Another dispatcher stored its job first: that one delivers (ours, if it started
        // already, only waits for the lane's lock and finds the events sent), and it is the
        // id to answer.
        jobs.Delete(newJobId);
        return await connection.ScalarAsync<string>(
            "SELECT delivery_job_id FROM webhook_lanes WHERE webhook_id = @id AND lane = @lane", CancellationToken.None,
            ("id", webhookId), ("lane", lane)) ?? newJobId;
    }

    private bool IsLive(string jobId) => State(jobId) is { } state && LiveStates.Contains(state);

    private string? State(string jobId)
    {
        using var connection = storage.GetConnection();
        return connection.GetStateData(jobId)?.Name;
    }
}
