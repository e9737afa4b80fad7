using Npgsql;

namespace Crm.Api.Dashboard;

// The webhook backlog over time, from the outbox: an event is pending from when it occurred
// until its message was delivered (webhook_events.occurred_at, webhook_messages.delivered_at).
public static class WebhookBacklogHistory
{
    // Every event pending at some time since @from, as the bucket (width_bucket over @points)
    // of when it occurred and of when it was delivered (NULL: still pending), counted per pair.
    // Messages delivered since @from (their delivered_at index) or not yet (their partial index),
    // their events by message_id, and the events not yet in a message (their partial index).
    public const string SpansSql = """
        WITH spans AS (
            SELECT e.occurred_at AS since, m.delivered_at AS until
            FROM webhook_messages m
            JOIN webhook_events e ON e.message_id = m.id
            WHERE m.delivered_at >= @from OR m.delivered_at IS NULL
            UNION ALL
            SELECT occurred_at, NULL FROM webhook_events WHERE message_id IS NULL
        )
        SELECT width_bucket(since, @points) AS arrived, width_bucket(until, @points) AS left, count(*)::int
        FROM spans
        GROUP BY 1, 2
        """;

    // The events pending at each of the points (ascending UTC instants).
    public static async Task<int[]> ReadAsync(NpgsqlDataSource dataSource, DateTime[] points, CancellationToken ct)
    {
        // arrived[b], left[b]: events that occurred, were delivered, in bucket b (before points[b]
        // for b < points.Length: width_bucket's 0 is "before the first point").
        var arrived = new int[points.Length + 1];
        var left = new int[points.Length + 1];
        await using (var command = dataSource.CreateCommand(SpansSql))
        {
            command.Parameters.AddWithValue("from", points[0]);
            command.Parameters.AddWithValue("points", points);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                arrived[reader.GetInt32(0)] += reader.GetInt32(2);
                if (!reader.IsDBNull(1))
                    left[reader.GetInt32(1)] += reader.GetInt32(2);
            }
        }
        // Pending at points[j]: occurred before it and not delivered before it (buckets 0..j).
        var pending = new int[points.Length];
        var sum = 0;
        for (var j = 0; j < points.Length; j++)
        {
            sum += arrived[j] - left[j];
            pending[j] = sum;
        }
        return pending;
    }
}
