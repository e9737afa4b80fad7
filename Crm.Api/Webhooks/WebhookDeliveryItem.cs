namespace Crm.Api.Webhooks;

public sealed record WebhookDeliveryItem(
    long WebhookId, string MessageId, int Events, int Attempt, string State, int? ResponseStatus, string? Error,
    int DurationMs, DateTime At);
