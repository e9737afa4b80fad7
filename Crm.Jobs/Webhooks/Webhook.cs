using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crm.Jobs.Webhooks;

// The event types a subscription may ask for ("*": all of them).
public static class WebhookEventTypes
{
    public const string All = "*";
    public const string CustomerCreated = "customer.created";
    public const string CustomerUpdated = "customer.updated";
    public const string CustomerCategoryChanged = "customer.category_changed";
    public const string CustomerDeleted = "customer.deleted";
    public const string SyncCompleted = "sync.completed";
    public const string SyncFailed = "sync.failed";
    // Sent by POST /api/webhooks/{id}/test to that subscription alone.
    public const string Test = "webhook.test";

    public static readonly string[] Subscribable =
        [All, CustomerCreated, CustomerUpdated, CustomerCategoryChanged, CustomerDeleted, SyncCompleted, SyncFailed];
}

// What the outbox holds undelivered: events not yet in a message and those of messages not
// yet acknowledged (each counted from its partial index), and the oldest of either. One row;
// read by the backlog gauges (CustomerCountPublisher) and the dashboard's Webhooks card.
public static class WebhookBacklogSql
{
    public const string Select = """
        SELECT p.events + coalesce(m.events, 0) AS events, least(p.oldest, m.oldest) AS oldest
        FROM (SELECT count(*) AS events, min(occurred_at) AS oldest FROM webhook_events WHERE message_id IS NULL) p,
             (SELECT sum(event_count) AS events, min(first_occurred_at) AS oldest FROM webhook_messages WHERE delivered_at IS NULL) m
        """;
}

// A subscription (table webhooks): where to send which events, signed with its secret.
public class Webhook
{
    public const int MaxUrlLength = 2000;
    public const int MaxDescriptionLength = 500;

    public long Id { get; set; }
    public required string Url { get; set; }
    public required string[] Events { get; set; }
    public string? Description { get; set; }
    public bool Enabled { get; set; } = true;

    // whsec_<base64>: the Standard Webhooks signing key. Returned only when created or rotated.
    public required string Secret { get; set; }
    // After a rotation the old secret signs beside the new one until PreviousSecretExpiresAt.
    public string? PreviousSecret { get; set; }
    public DateTime? PreviousSecretExpiresAt { get; set; }

    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }

    // Since the first failed attempt of the current run of failures; null once one succeeds.
    public DateTime? FailingSince { get; set; }
    public string? LastError { get; set; }
    // Why the service disabled it (failing for Crm:Webhooks:DisableAfter); null when enabled
    // or disabled by an operator.
    public string? DisabledReason { get; set; }

    // The Hangfire job that delivers its events, while one is queued, retrying or running.
    public string? DeliveryJobId { get; set; }
}

// One event for one subscription (table webhook_events), written by the triggers of
// migration Webhooks in the transaction of the change. Pending while MessageId is null.
public class WebhookEvent
{
    public long Id { get; set; }
    public long WebhookId { get; set; }
    public required string Type { get; set; }
    public DateTime OccurredAt { get; set; }
    public required string Data { get; set; }
    public long? MessageId { get; set; }
}

// One HTTP message (table webhook_messages): up to Crm:Webhooks:MaxEventsPerMessage events
// of a subscription, its body fixed when it is formed, so every redelivery sends the same
// bytes under the same webhook-id.
public class WebhookMessage
{
    public long Id { get; set; }
    public long WebhookId { get; set; }
    // The webhook-id header: msg_<uuid>.
    public required string MessageId { get; set; }
    public required string Body { get; set; }
    public int EventCount { get; set; }
    public DateTime FirstOccurredAt { get; set; }
    public DateTime CreatedAt { get; set; }
    public int Attempts { get; set; }
    public DateTime? DeliveredAt { get; set; }
}

// One attempt to deliver a message (table webhook_deliveries): GET /api/webhooks/{id}/deliveries.
public class WebhookDelivery
{
    public long Id { get; set; }
    public long WebhookId { get; set; }
    public long MessageId { get; set; }
    public int Events { get; set; }
    public int Attempt { get; set; }
    // delivered | failed
    public required string State { get; set; }
    public int? ResponseStatus { get; set; }
    public string? Error { get; set; }
    public int DurationMs { get; set; }
    public DateTime At { get; set; }
}

internal sealed class WebhookConfiguration :
    IEntityTypeConfiguration<Webhook>, IEntityTypeConfiguration<WebhookEvent>,
    IEntityTypeConfiguration<WebhookMessage>, IEntityTypeConfiguration<WebhookDelivery>
{
    public void Configure(EntityTypeBuilder<Webhook> webhook)
    {
        webhook.Property(w => w.Url).HasMaxLength(Webhook.MaxUrlLength);
        webhook.Property(w => w.Description).HasMaxLength(Webhook.MaxDescriptionLength);
        webhook.Property(w => w.Secret).HasMaxLength(100);
        webhook.Property(w => w.PreviousSecret).HasMaxLength(100);
        webhook.Property(w => w.LastError).HasMaxLength(1000);
        webhook.Property(w => w.DisabledReason).HasMaxLength(1000);
        webhook.Property(w => w.DeliveryJobId).HasMaxLength(100);
    }

    public void Configure(EntityTypeBuilder<WebhookEvent> e)
    {
        e.ToTable("webhook_events");
        e.Property(x => x.Type).HasMaxLength(40);
        e.Property(x => x.Data).HasColumnType("jsonb");
        e.HasOne<Webhook>().WithMany().HasForeignKey(x => x.WebhookId).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<WebhookMessage>().WithMany().HasForeignKey(x => x.MessageId).OnDelete(DeleteBehavior.Cascade);
        // A subscription's pending events in order: what a delivery forms its next message from.
        e.HasIndex(x => new { x.WebhookId, x.Id }).HasFilter("message_id IS NULL").HasDatabaseName("ix_webhook_events_pending");
        // A message's events (the cascade when it is pruned). Partial: with the pending events
        // in it too, a planner with stale statistics took it for "message_id IS NULL" and read
        // every pending event to form one message (docs/BENCHMARKS.md, webhooks).
        e.HasIndex(x => x.MessageId).HasFilter("message_id IS NOT NULL");
    }

    public void Configure(EntityTypeBuilder<WebhookMessage> m)
    {
        m.ToTable("webhook_messages");
        m.Property(x => x.MessageId).HasMaxLength(60);
        m.HasIndex(x => x.MessageId).IsUnique();
        m.HasOne<Webhook>().WithMany().HasForeignKey(x => x.WebhookId).OnDelete(DeleteBehavior.Cascade);
        // The message a subscription is still trying to deliver (at most one at a time).
        m.HasIndex(x => new { x.WebhookId, x.Id }).HasFilter("delivered_at IS NULL").HasDatabaseName("ix_webhook_messages_undelivered");
        // Pruning delivered messages by age.
        m.HasIndex(x => x.DeliveredAt);
    }

    public void Configure(EntityTypeBuilder<WebhookDelivery> d)
    {
        d.ToTable("webhook_deliveries");
        d.Property(x => x.State).HasMaxLength(20);
        d.Property(x => x.Error).HasMaxLength(1000);
        d.HasOne<Webhook>().WithMany().HasForeignKey(x => x.WebhookId).OnDelete(DeleteBehavior.Cascade);
        d.HasOne<WebhookMessage>().WithMany().HasForeignKey(x => x.MessageId).OnDelete(DeleteBehavior.Cascade);
        // A subscription's deliveries, newest first.
        d.HasIndex(x => new { x.WebhookId, x.Id });
        d.HasIndex(x => x.MessageId);
        d.ToTable(t => t.HasCheckConstraint("ck_webhook_deliveries_state", "state IN ('delivered', 'failed')"));
    }
}
