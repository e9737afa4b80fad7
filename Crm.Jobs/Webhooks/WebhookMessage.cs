namespace Crm.Jobs.Webhooks;

// One HTTP message (table webhook_messages): up to Crm:Webhooks:MaxEventsPerMessage events
// of a subscription, its body fixed when it is formed, so every redelivery sends the same
// bytes under the same webhook-id.
public class WebhookMessage
{
    public long Id { get; set; }
    public long WebhookId { get; set; }
    // Its lane (0: events without a customer; 1..Lanes: a customer's, WebhookLanes.OfEventSql)
    // and the lane count it was formed under.
    public int Lane { get; set; }
    public int Lanes { get; set; } = 1;
    // The webhook-id header: msg_<uuid>.
    public required string MessageId { get; set; }
    public required string Body { get; set; }
    public int EventCount { get; set; }
    public DateTime FirstOccurredAt { get; set; }
    public DateTime CreatedAt { get; set; }
    public int Attempts { get; set; }
    public DateTime? DeliveredAt { get; set; }
}
