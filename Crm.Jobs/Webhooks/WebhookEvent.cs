namespace Crm.Jobs.Webhooks;

// One event for one subscription (table webhook_events), written by the triggers of
// migration Webhooks in the transaction of the change. Pending while MessageId is null.
public class WebhookEvent
{
    public long Id { get; set; }
    public long WebhookId { get; set; }
    public required string Type { get; set; }
    public DateTime OccurredAt { get; set; }
    public required string Data { get; set; }
    public long? MessageId { get; set; }
    // The sync run whose change (or whose end) it tells of; null for other writers.
    public long? RunId { get; set; }
}
