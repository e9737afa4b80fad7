namespace Crm.Api.Webhooks;

public sealed record WebhookSubscription(
    long Id, string Url, string[] Events, string? Description, bool Enabled, string? DisabledReason,
    DateTime? FailingSince, string? LastError, long PendingEvents, DateTime? PreviousSecretExpiresAt,
    DateTime CreatedAt, DateTime UpdatedAt, string DeliveriesUrl);
