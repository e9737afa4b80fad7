namespace Crm.Jobs.Webhooks;

// One lane of a subscription (table webhook_lanes): the job delivering it and its failing streak.
public class WebhookLane
{
    public long WebhookId { get; set; }
    public int Lane { get; set; }

    // The Hangfire job that delivers the lane, while one is queued, retrying or running.
    public string? DeliveryJobId { get; set; }

    // Since the lane's first failed attempt of its current run of failures; null once one
    // succeeds. The lane that fails for Crm:Webhooks:DisableAfter disables the subscription.
    public DateTime? FailingSince { get; set; }
}
