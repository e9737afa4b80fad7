namespace Crm.Jobs.Webhooks;

// A delivery that failed: Hangfire retries the job (WebhookRetryAttribute: not before the
// receiver's Retry-After, when it sent one), and the dashboard shows the attempts.
public sealed class WebhookDeliveryException(string message, TimeSpan? retryAfter = null) : Exception(message)
{
    public TimeSpan? RetryAfter { get; } = retryAfter;
}
