namespace Crm.Jobs.Webhooks;

// What a run of `prune-webhooks` deleted: delivered messages past the retention, and of
// disabled subscriptions the undelivered messages and pending events as old.
public sealed record WebhookPruneResult(int DeliveredMessages, int UndeliveredMessages, int PendingEvents);
