namespace Crm.Jobs.Webhooks;

// What the outbox holds undelivered: events not yet in a message and those of messages not
// yet acknowledged (each counted from its partial index), and the oldest of either. One row;
// read by the backlog gauges (GaugePublisher) and the dashboard's Webhooks card.
public static class WebhookBacklogSql
{
    public const string Select = """
        SELECT p.events + coalesce(m.events, 0) AS events, least(p.oldest, m.oldest) AS oldest
        FROM (SELECT count(*) AS events, min(occurred_at) AS oldest FROM webhook_events WHERE message_id IS NULL) p,
             (SELECT sum(event_count) AS events, min(first_occurred_at) AS oldest FROM webhook_messages WHERE delivered_at IS NULL) m
        """;
}
