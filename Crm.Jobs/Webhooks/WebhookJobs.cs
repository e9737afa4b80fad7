using System.ComponentModel;
using System.Diagnostics;
using Crm.Jobs.Data;
using Crm.Jobs.Hosting;
using Hangfire;
using Hangfire.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Crm.Jobs.Webhooks;

// The jobs of the webhook outbox: delivering a lane of a subscription's events, and pruning.
public sealed class WebhookJobs(
    [FromKeyedServices(CrmDataSources.Jobs)] NpgsqlDataSource dataSource, WebhookSender sender, CrmMetrics metrics,
    TimeProvider clock, IOptions<WebhookOptions> options, ILogger<WebhookJobs> logger)
{
    public const string PruneRecurringJobId = "prune-webhooks";

    // A session lock per lane of a subscription (two-key form, this space, the subscription's
    // id times LockStride plus the lane): one delivery at a time per lane, so a lane's
    // messages go out in order.
    public const int LockSpace = 0x43524e; // "CRN"
    private const int LockStride = WebhookOptions.MaxLanes + 1;

    // Sends the lane's pending events in order, a message of up to
    // Crm:Webhooks:MaxEventsPerMessage at a time, until none is left. A message that was not
    // acknowledged (a failure, a killed worker) is sent again, same body, same webhook-id,
    // before any newer event of its lane. A failed attempt throws: Hangfire retries with
    // backoff and jitter for a little over a day (WebhookRetryAttribute), by which time
    // Crm:Webhooks:DisableAfter has disabled the subscription; the other lanes go on
    // meanwhile. A 410 Gone disables it at once. One round trip a message: a delivery's record
    // goes with the claim of the next message (NextMessageSql), in one commit.
    [Queue(JobQueues.Webhooks)]
    [DisplayName("Deliver the events of webhook {0}, lane {1}")]
    [WebhookRetry]
    // The retries are WebhookRetry's; this keeps Hangfire's global default (10 retries) out.
    [AutomaticRetry(Attempts = 0)]
    public async Task<WebhookDeliveryResult> DeliverAsync(long webhookId, int lane, PerformContext? context, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(NoSortSql, ct);
        await using (await connection.LockForSessionAsync(LockSpace, checked((int)webhookId * LockStride + lane), ct))
        {
            var (messages, events) = (0, 0);
            var next = await NextAsync(connection, webhookId, lane, ct);
            while (true)
            {
                if (next is null || !next.Enabled)
                    return new WebhookDeliveryResult(webhookId, lane, messages, events, next is null ? "deleted" : "disabled");
                if (next.Message is null)
                {
                    // Give the claim up, then look once more: events committed while the
                    // dispatcher saw this job running would otherwise wait for its next poll.
                    await connection.ExecuteAsync(
                        "UPDATE webhook_lanes SET delivery_job_id = NULL WHERE webhook_id = @id AND lane = @lane AND delivery_job_id = @job_id", ct,
                        ("id", webhookId), ("lane", lane), ("job_id", context?.BackgroundJob.Id ?? ""));
                    next = await NextAsync(connection, webhookId, lane, ct);
                    if (next is { Enabled: true, Message: null })
                        return new WebhookDeliveryResult(webhookId, lane, messages, events, "delivered");
                    continue;
                }
                var (delivered, following) = await SendAsync(connection, next, lane, ct);
                if (!delivered)
                    return new WebhookDeliveryResult(webhookId, lane, messages, events, "gone");
                messages++;
                events += next.Message.EventCount;
                next = following ?? await NextAsync(connection, webhookId, lane, ct);
            }
        }
    }

    // The subscription as the next message goes out (a changed URL or secret applies from the
    // next message on), with that message: null when there is none to send now.
    private sealed record Next(long WebhookId, string Url, bool Enabled, string[] Secrets, int Lanes, Message? Message);

    private sealed record Message(long Id, string MessageId, string Body, int EventCount, int Attempt);

    // For this job's session (the pool's reset clears it): a lane's batch is read in the
    // pending index's order, never sorted after a scan of the table, which the planner
    // prefers whenever its statistics saw fewer than about 20 000 events pending, and which
    // reads the whole table for each message (docs/BENCHMARKS.md, cheaper webhook messages).
    public const string NoSortSql = "SET enable_sort = off";

    // A message's body from its events (an aggregate over webhook_events rows): also what an
    // erase rebuilds a body with once it took a person's events out (ErasureJobs).
    public const string MessageBodySql = """
        json_build_object('events', json_agg(json_build_object(
            'id', 'evt_' || id, 'type', type,
            'occurredAt', to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
            'data', data) ORDER BY id))::text
        """;

    // The lane's next message with its attempt counted, and the subscription, in one statement:
    // the lane's oldest message not yet acknowledged (whatever lane count formed it), else its
    // next pending events as a new message (its body fixed now, so a redelivery sends exactly
    // these bytes). The attempt is counted before the request: one cut short by a killed
    // worker still counts. Nothing is claimed for a disabled subscription. A new message is
    // formed only under @lanes: the row lock (KEY SHARE: deliveries still update the row)
    // holds off a change of the lane count until it is committed, and a change committed
    // meanwhile finds nothing here. No row: the subscription is gone. The batch's webhook_id
    // is a range, not an equality, on purpose: so its order (webhook_id, id) is the pending
    // index's alone. With `=`, the primary key gives the same id order and, under statistics
    // taken while everything was pending, looks as good, yet reads every event claimed so far:
    // each message dearer than the last; a scan of the table with a top-N sort would too,
    // hence NoSortSql (WebhookLanePlanTests, docs/BENCHMARKS.md).
    public const string NextMessageSql = $"""
        WITH undelivered AS (
            SELECT id FROM webhook_messages
            WHERE webhook_id = @id AND lane = @lane AND delivered_at IS NULL
            ORDER BY id LIMIT 1
        ), hook AS (
            SELECT id FROM webhooks
            WHERE id = @id AND enabled AND lanes = @lanes AND NOT EXISTS (SELECT FROM undelivered)
            FOR KEY SHARE
        ), batch AS (
            SELECT id, type, occurred_at, data FROM webhook_events
            WHERE webhook_id BETWEEN @id AND @id AND message_id IS NULL AND {WebhookLanes.OfEventSql} = @lane AND EXISTS (SELECT FROM hook)
            ORDER BY webhook_id, id LIMIT @max
        ), formed AS (
            INSERT INTO webhook_messages (webhook_id, lane, lanes, message_id, body, event_count, first_occurred_at, created_at, attempts)
            SELECT @id, @lane, @lanes, 'msg_' || replace(gen_random_uuid()::text, '-', ''),
                   {MessageBodySql},
                   count(*), min(occurred_at), @now, 1
            FROM batch
            HAVING count(*) > 0
            RETURNING id, message_id, body, event_count, attempts
        ), claimed AS (
            UPDATE webhook_events SET message_id = (SELECT id FROM formed) WHERE id IN (SELECT id FROM batch)
        ), resent AS (
            UPDATE webhook_messages SET attempts = attempts + 1
            WHERE id = (SELECT id FROM undelivered) AND EXISTS (SELECT FROM webhooks WHERE id = @id AND enabled)
            RETURNING id, message_id, body, event_count, attempts
        )
        SELECT w.url, w.enabled, {WebhookSigning.SecretsSql}, w.lanes,
               m.id, m.message_id, m.body, m.event_count, m.attempts
        FROM webhooks w
        LEFT JOIN (SELECT * FROM formed UNION ALL SELECT * FROM resent) m ON true
        WHERE w.id = @id
        """;

    // The lane count changes only once every message formed under the old one is delivered:
    // a customer's later events, in another lane now, cannot overtake its earlier ones. Under
    // the subscription's row lock, which waits for the messages being formed (NextMessageSql).
    public const string SwitchLanesSql = """
        SELECT lanes FROM webhooks WHERE id = @id FOR UPDATE;
        UPDATE webhooks SET lanes = @lanes
        WHERE id = @id AND lanes <> @lanes
          AND NOT EXISTS (SELECT 1 FROM webhook_messages WHERE webhook_id = @id AND delivered_at IS NULL);
        """;

    // The lane's next message under Crm:Webhooks:Lanes (NextMessageSql); when it has none and
    // the subscription's messages are still formed under another count, the count is switched
    // (if every message of the old count is delivered) and the lane looks again. A lane beyond
    // the count has only its undelivered messages to send.
    private async Task<Next?> NextAsync(NpgsqlConnection connection, long webhookId, int lane, CancellationToken ct)
    {
        var next = await ReadNextAsync(NextCommand(connection, NextMessageSql, webhookId, lane), webhookId, ct);
        var lanes = options.Value.Lanes;
        if (next is not { Enabled: true, Message: null } || lane > lanes || next.Lanes == lanes)
            return next;
        await using (var transaction = await connection.BeginTransactionAsync(ct))
        {
            await connection.ExecuteAsync(SwitchLanesSql, transaction, ct, ("id", webhookId), ("lanes", lanes));
            await transaction.CommitAsync(ct);
        }
        return await ReadNextAsync(NextCommand(connection, NextMessageSql, webhookId, lane), webhookId, ct);
    }

    // A command with NextMessageSql's parameters.
    private NpgsqlCommand NextCommand(NpgsqlConnection connection, string sql, long webhookId, int lane)
    {
        var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("id", webhookId);
        command.Parameters.AddWithValue("lane", lane);
        command.Parameters.AddWithValue("lanes", options.Value.Lanes);
        command.Parameters.AddWithValue("max", options.Value.MaxEventsPerMessage);
        command.Parameters.AddWithValue("now", clock.GetUtcNow().UtcDateTime);
        return command;
    }

    private static async Task<Next?> ReadNextAsync(NpgsqlCommand command, long webhookId, CancellationToken ct)
    {
        await using (command)
        {
            await using var reader = await command.ExecuteReaderAsync(ct);
            return await ReadNextAsync(reader, webhookId, ct);
        }
    }

    private static async Task<Next?> ReadNextAsync(NpgsqlDataReader reader, long webhookId, CancellationToken ct)
    {
        if (!await reader.ReadAsync(ct))
            return null;
        var message = reader.IsDBNull(5)
            ? null
            : new Message(reader.GetInt64(5), reader.GetString(6), reader.GetString(7), reader.GetInt32(8), reader.GetInt32(9));
        return new Next(webhookId, reader.GetString(0), reader.GetBoolean(1), WebhookSigning.Secrets(reader, 2), reader.GetInt32(4), message);
    }

    // The attempt, the message, the lane's and the subscription's state change together. The
    // subscription fails since its longest-failing lane; the lane failing for DisableAfter
    // disables it. A success with nothing failing leaves the subscription's row alone.
    public const string RecordSql = """
        INSERT INTO webhook_deliveries (webhook_id, message_id, events, attempt, state, response_status, error, duration_ms, at)
        VALUES (@webhook_id, @message_id, @events, @attempt, @state, @status, @error, @duration_ms, @now);

        UPDATE webhook_messages SET delivered_at = @now WHERE id = @message_id AND @delivered;

        INSERT INTO webhook_lanes (webhook_id, lane, failing_since)
        SELECT @webhook_id, @lane, @now WHERE NOT @delivered
        ON CONFLICT (webhook_id, lane) DO UPDATE SET failing_since = coalesce(webhook_lanes.failing_since, @now);
        UPDATE webhook_lanes SET failing_since = NULL
        WHERE webhook_id = @webhook_id AND lane = @lane AND @delivered AND failing_since IS NOT NULL;

        UPDATE webhooks
        SET failing_since = (SELECT min(l.failing_since) FROM webhook_lanes l WHERE l.webhook_id = @webhook_id),
            last_error = CASE WHEN @delivered THEN last_error ELSE @error END,
            enabled = enabled AND NOT @gone AND (@delivered OR lane.since > @now - @disable_after),
            disabled_reason = CASE WHEN @gone
                                   THEN 'The receiver answered 410 Gone at ' || to_char(@now AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"')
                                        || ': it wants no more deliveries. Enable it again (PATCH enabled: true) once it does.'
                                   WHEN NOT @delivered AND lane.since <= @now - @disable_after
                                   THEN 'Every delivery failed since ' || to_char(lane.since AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"')
                                        || ' (Crm:Webhooks:DisableAfter); last error: ' || left(@error, 500)
                                   ELSE disabled_reason END
        FROM (SELECT coalesce((SELECT failing_since FROM webhook_lanes WHERE webhook_id = @webhook_id AND lane = @lane), @now) AS since) lane
        WHERE id = @webhook_id AND (NOT @delivered OR @gone OR failing_since IS NOT NULL)
        RETURNING enabled;

        """;

    // Delivered, with the lane's next message when it was claimed with the record (null: look
    // again); not delivered when the receiver answered 410 Gone (the subscription is disabled
    // now); throws for any other failure.
    private async Task<(bool Delivered, Next? Following)> SendAsync(NpgsqlConnection connection, Next next, int lane, CancellationToken ct)
    {
        var message = next.Message!;
        var stopwatch = Stopwatch.StartNew();
        var response = await sender.SendAsync(next.Url, message.MessageId, message.Body, next.Secrets, clock.GetUtcNow(), ct);
        var error = response.StoredError;

        // A delivered message's record claims the next one in the same round trip, unless the
        // job is being stopped (the next message would count an attempt it never makes).
        var claimNext = response.Delivered && !ct.IsCancellationRequested;
        await using var record = NextCommand(connection, claimNext ? RecordSql + NextMessageSql : RecordSql, next.WebhookId, lane);
        record.Parameters.AddWithValue("webhook_id", next.WebhookId);
        record.Parameters.AddWithValue("message_id", message.Id);
        record.Parameters.AddWithValue("events", message.EventCount);
        record.Parameters.AddWithValue("attempt", message.Attempt);
        record.Parameters.AddWithValue("state", response.Delivered ? "delivered" : "failed");
        record.Parameters.AddWithValue("status", (object?)response.Status ?? DBNull.Value);
        record.Parameters.AddWithValue("error", NpgsqlTypes.NpgsqlDbType.Text, (object?)error ?? DBNull.Value);
        record.Parameters.AddWithValue("duration_ms", (int)stopwatch.ElapsedMilliseconds);
        record.Parameters.AddWithValue("delivered", response.Delivered);
        record.Parameters.AddWithValue("gone", response.Gone);
        record.Parameters.AddWithValue("disable_after", options.Value.DisableAfter);
        var stillEnabled = true;
        Next? following = null;
        await using (var reader = await record.ExecuteReaderAsync(CancellationToken.None))
        {
            if (await reader.ReadAsync(CancellationToken.None))
                stillEnabled = reader.GetBoolean(0);
            if (claimNext && await reader.NextResultAsync(CancellationToken.None))
                following = await ReadNextAsync(reader, next.WebhookId, CancellationToken.None);
        }

        metrics.WebhookDelivered(response.Delivered);
        if (response.Delivered)
            return (true, claimNext ? following : null);
        if (response.Gone)
        {
            // Not a failure of the job: the receiver said stop, so nothing is retried.
            logger.LogWarning("Webhook {WebhookId} disabled: its receiver answered 410 Gone", next.WebhookId);
            return (false, null);
        }
        if (!stillEnabled)
            logger.LogWarning("Webhook {WebhookId} disabled: the deliveries of its lane {Lane} have failed for {DisableAfter}", next.WebhookId,
                lane, options.Value.DisableAfter);
        throw new WebhookDeliveryException(
            $"Message {message.MessageId} ({message.EventCount} events, lane {lane}), attempt {message.Attempt}: {error}", response.RetryAfter);
    }

    // A slice of a disabled subscription's messages formed before the cutoff and never
    // delivered; each takes its events and attempts with it (ON DELETE CASCADE). Read through
    // ix_webhook_messages_undelivered, per disabled subscription.
    public const string PruneUndeliveredMessagesSql = """
        DELETE FROM webhook_messages
        WHERE id IN (
            SELECT m.id FROM webhook_messages m
            JOIN webhooks w ON w.id = m.webhook_id
            WHERE NOT w.enabled AND m.delivered_at IS NULL AND m.created_at < @cutoff
            LIMIT @slice)
        """;

    // A slice of a disabled subscription's pending events (in no message yet) older than the
    // cutoff. Read through ix_webhook_events_pending, per disabled subscription.
    public const string PrunePendingEventsSql = """
        DELETE FROM webhook_events
        WHERE id IN (
            SELECT e.id FROM webhook_events e
            JOIN webhooks w ON w.id = e.webhook_id
            WHERE NOT w.enabled AND e.message_id IS NULL AND e.occurred_at < @cutoff
            LIMIT @slice)
        """;

    // Recurring `prune-webhooks`: delivered messages older than Crm:Webhooks:RetentionDays,
    // with their events and attempts; and what a disabled subscription never got that is as
    // old (its undelivered message, its pending events): a subscription left disabled would
    // otherwise keep its backlog for ever. Events are written only for enabled subscriptions,
    // so a disabled one's backlog only shrinks.
    [Queue(JobQueues.Default)]
    [DisplayName("Prune old webhook messages and events")]
    [AutomaticRetry(Attempts = 3, DelaysInSeconds = [10, 60, 300])]
    public async Task<WebhookPruneResult> PruneAsync(CancellationToken ct)
    {
        var cutoff = clock.GetUtcNow().UtcDateTime.AddDays(-options.Value.RetentionDays);
        // Each message takes its events and attempts with it (ON DELETE CASCADE).
        var delivered = await CrmDatabase.DeleteInSlicesAsync(dataSource, "webhook_messages", "delivered_at < @cutoff", cutoff, 1_000, ct);
        var undelivered = await CrmDatabase.InSlicesAsync(dataSource, PruneUndeliveredMessagesSql, cutoff, 1_000, ct);
        var pending = await CrmDatabase.InSlicesAsync(dataSource, PrunePendingEventsSql, cutoff, 10_000, ct);
        logger.LogInformation(
            "Pruned {Count} delivered webhook messages older than {Days} days; of disabled subscriptions, {Undelivered} undelivered messages and {Pending} pending events as old",
            delivered, options.Value.RetentionDays, undelivered, pending);
        return new WebhookPruneResult(delivered, undelivered, pending);
    }
}
