namespace Crm.Jobs.Webhooks;

// What a replay sent again: the messages, and of the events they carry those of the window
// or run asked for.
public sealed record WebhookReplayResult(long WebhookId, int Messages, int Events, string Outcome);
