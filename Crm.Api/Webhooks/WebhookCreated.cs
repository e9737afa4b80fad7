namespace Crm.Api.Webhooks;

// The only answers that carry the secret: creation and rotation.
public sealed record WebhookCreated(long Id, string Url, string[] Events, string? Description, bool Enabled, string Secret);
