namespace Crm.Jobs.Webhooks;

public sealed record WebhookDeliveryResult(long WebhookId, int Messages, int Events, string Outcome);
