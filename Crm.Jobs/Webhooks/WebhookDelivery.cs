namespace Crm.Jobs.Webhooks;

// One attempt to deliver a message (table webhook_deliveries): GET /api/webhooks/{id}/deliveries.
public class WebhookDelivery
{
    public long Id { get; set; }
    public long WebhookId { get; set; }
    public long MessageId { get; set; }
    public int Events { get; set; }
    public int Attempt { get; set; }
    // delivered | failed
    public required string State { get; set; }
    public int? ResponseStatus { get; set; }
    public string? Error { get; set; }
    public int DurationMs { get; set; }
    public DateTime At { get; set; }
}
