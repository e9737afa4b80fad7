using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crm.Jobs.Webhooks;

internal sealed class WebhookConfiguration :
    IEntityTypeConfiguration<Webhook>, IEntityTypeConfiguration<WebhookEvent>,
    IEntityTypeConfiguration<WebhookMessage>, IEntityTypeConfiguration<WebhookDelivery>, IEntityTypeConfiguration<WebhookLane>
{
    public void Configure(EntityTypeBuilder<Webhook> webhook)
    {
        webhook.Property(w => w.Url).HasMaxLength(Webhook.MaxUrlLength);
        webhook.Property(w => w.Description).HasMaxLength(Webhook.MaxDescriptionLength);
        webhook.Property(w => w.Secret).HasMaxLength(100);
        webhook.Property(w => w.PreviousSecret).HasMaxLength(100);
        webhook.Property(w => w.LastError).HasMaxLength(1000);
        webhook.Property(w => w.DisabledReason).HasMaxLength(1000);
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
        // A run's events, for a replay of the run.
        e.HasIndex(x => new { x.WebhookId, x.RunId }).HasFilter("run_id IS NOT NULL");
    }

    public void Configure(EntityTypeBuilder<WebhookMessage> m)
    {
        m.ToTable("webhook_messages");
        m.Property(x => x.MessageId).HasMaxLength(60);
        m.HasIndex(x => x.MessageId).IsUnique();
        m.HasOne<Webhook>().WithMany().HasForeignKey(x => x.WebhookId).OnDelete(DeleteBehavior.Cascade);
        // The message a lane is still trying to deliver (at most one at a time per lane).
        m.HasIndex(x => new { x.WebhookId, x.Lane, x.Id }).HasFilter("delivered_at IS NULL").HasDatabaseName("ix_webhook_messages_undelivered");
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

    public void Configure(EntityTypeBuilder<WebhookLane> l)
    {
        l.ToTable("webhook_lanes");
        l.HasKey(x => new { x.WebhookId, x.Lane });
        l.Property(x => x.DeliveryJobId).HasMaxLength(100);
        l.HasOne<Webhook>().WithMany().HasForeignKey(x => x.WebhookId).OnDelete(DeleteBehavior.Cascade);
    }
}
