namespace Crm.Api.Webhooks;

public sealed record WebhookTestAccepted(string EventId, string JobId, string StatusUrl);
