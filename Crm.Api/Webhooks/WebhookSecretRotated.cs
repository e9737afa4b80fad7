namespace Crm.Api.Webhooks;

public sealed record WebhookSecretRotated(long Id, string Secret, DateTime PreviousSecretExpiresAt);
