namespace Crm.Api.Webhooks;

// The webhook outbox at a glance (WebhookQueries.OverviewAsync): the subscriptions counted, the
// events waiting and since when, and the failing or disabled subscriptions.
public sealed record WebhookOverview(
    long Subscriptions, long Enabled, long Failing, long PendingEvents, DateTime? OldestPendingAt,
    IReadOnlyList<WebhookSubscription> FailingSubscriptions);
