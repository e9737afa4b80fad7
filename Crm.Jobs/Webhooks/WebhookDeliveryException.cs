namespace Crm.Jobs.Webhooks;

// A delivery that failed: Hangfire retries the job, and the dashboard shows the attempts.
public sealed class WebhookDeliveryException(string message) : Exception(message);
