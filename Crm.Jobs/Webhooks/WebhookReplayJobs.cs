using System.ComponentModel;
using System.Diagnostics;
using Crm.Jobs.Data;
using Crm.Jobs.Hosting;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Crm.Jobs.Webhooks;

// POST /api/webhooks/{id}/replay: sends the delivered messages that carried the events of a
// time window or of a sync run again, each as it was (same webhook-id, same body, so the same
// event ids): a receiver that has them dedupes, one that lost them gets them back.
public sealed class WebhookReplayJobs(
    [FromKeyedServices(CrmDataSources.Jobs)] NpgsqlDataSource dataSource, WebhookSender sender, CrmMetrics metrics,
    TimeProvider clock, IOptions<WebhookOptions> options)
{
    // The delivered messages with events that occurred in [@from, @to], in their order; a
    // message is sent whole (it may carry events just outside the window).
    public const string WindowSql = """
        SELECT m.id, m.lane, m.message_id, m.body, count(*)::int AS events
        FROM webhook_events e JOIN webhook_messages m ON m.id = e.message_id
        WHERE e.webhook_id = @id AND e.occurred_at BETWEEN @from AND @to AND m.delivered_at IS NOT NULL
        GROUP BY m.id ORDER BY m.id
        """;

    // The delivered messages with events of the sync run (its customers' changes and its end).
    public const string RunSql = """
        SELECT m.id, m.lane, m.message_id, m.body, count(*)::int AS events
        FROM webhook_events e JOIN webhook_messages m ON m.id = e.message_id
        WHERE e.webhook_id = @id AND e.run_id = @run_id AND m.delivered_at IS NOT NULL
        GROUP BY m.id ORDER BY m.id
        """;

    // An attempt of a replay is on record like any other; a failed one does not count towards
    // disabling the subscription (the job's own retries stand for it).
    public const string RecordSql = """
        WITH m AS (UPDATE webhook_messages SET attempts = attempts + 1 WHERE id = @message_id RETURNING attempts, event_count)
        INSERT INTO webhook_deliveries (webhook_id, message_id, events, attempt, state, response_status, error, duration_ms, at)
        SELECT @webhook_id, @message_id, m.event_count, m.attempts, @state, @status, @error, @duration_ms, @now FROM m
        """;

    private sealed record Message(long Id, int Lane, string MessageId, string Body, int Events);

    // Each lane's messages in their order, the lanes in parallel; a lane stops at its first
    // failure, and the job then throws: its retry sends the replay again (receivers dedupe).
    [Queue(JobQueues.Webhooks)]
    [DisplayName("Replay the events of webhook {0}")]
    [AutomaticRetry(Attempts = 3, DelaysInSeconds = [10, 60, 300])]
    public async Task<WebhookReplayResult> ReplayAsync(long webhookId, DateTime? from, DateTime? to, long? runId, CancellationToken ct)
    {
        List<Message> messages;
        string url;
        string[] secrets;
        await using (var connection = await dataSource.OpenConnectionAsync(ct))
        {
            var hook = await connection.QueryAsync($"SELECT w.url, w.enabled, {WebhookSigning.SecretsSql} FROM webhooks w WHERE w.id = @id",
                null, r => (Url: r.GetString(0), Enabled: r.GetBoolean(1), Secrets: WebhookSigning.Secrets(r, 2)),
                ct, ("id", webhookId), ("now", clock.GetUtcNow().UtcDateTime));
            if (hook.Count == 0 || !hook[0].Enabled)
                return new WebhookReplayResult(webhookId, 0, 0, hook.Count == 0 ? "deleted" : "disabled");
            (url, secrets) = (hook[0].Url, hook[0].Secrets);
            messages = runId is { } run
                ? await connection.QueryAsync(RunSql, null, Read, ct, ("id", webhookId), ("run_id", run))
                : await connection.QueryAsync(WindowSql, null, Read, ct, ("id", webhookId), ("from", from!.Value), ("to", to!.Value));
        }

        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var lanes = messages.GroupBy(m => m.Lane).ToList();
        await Parallel.ForEachAsync(lanes, new ParallelOptions { MaxDegreeOfParallelism = options.Value.Lanes + 1, CancellationToken = ct },
            async (lane, token) =>
            {
                foreach (var message in lane)
                {
                    if (await SendAsync(webhookId, url, secrets, message, token) is { } error)
                    {
                        failures.Enqueue($"message {message.MessageId} (lane {lane.Key}): {error}");
                        return;
                    }
                }
            });
        if (!failures.IsEmpty)
            throw new WebhookDeliveryException($"Replay of webhook {webhookId}: {failures.Count} lanes failed; {failures.First()}");
        return new WebhookReplayResult(webhookId, messages.Count, messages.Sum(m => m.Events), "replayed");
    }

    private static Message Read(NpgsqlDataReader r) => new(r.GetInt64(0), r.GetInt32(1), r.GetString(2), r.GetString(3), r.GetInt32(4));

    // The receiver's error, or null once it took the message.
    private async Task<string?> SendAsync(long webhookId, string url, string[] secrets, Message message, CancellationToken ct)
    {
        var stopwatch = Stopwatch.StartNew();
        var response = await sender.SendAsync(url, message.MessageId, message.Body, secrets, clock.GetUtcNow(), ct);
        var error = response.StoredError;
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(RecordSql, CancellationToken.None,
            ("webhook_id", webhookId), ("message_id", message.Id),
            ("state", response.Delivered ? "delivered" : "failed"), ("status", response.Status), ("error", error),
            ("duration_ms", (int)stopwatch.ElapsedMilliseconds), ("now", clock.GetUtcNow().UtcDateTime));
        metrics.WebhookDelivered(response.Delivered);
        return response.Delivered ? null : error ?? $"HTTP {response.Status}";
    }
}
