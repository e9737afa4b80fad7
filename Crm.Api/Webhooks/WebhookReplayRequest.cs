namespace Crm.Api.Webhooks;

// Either a time window (from and to) or a sync run (runId).
public sealed record WebhookReplayRequest(DateTimeOffset? From, DateTimeOffset? To, long? RunId);
