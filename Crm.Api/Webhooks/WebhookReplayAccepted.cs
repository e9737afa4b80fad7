namespace Crm.Api.Webhooks;

public sealed record WebhookReplayAccepted(string JobId, string StatusUrl);
