namespace Crm.Jobs.Webhooks;

public sealed record WebhookDeliveryResult(long WebhookId, int Lane, int Messages, int Events, string Outcome);
