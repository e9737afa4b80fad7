using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crm.Jobs.Sync;

// The durable "this customer needs an auto sync" record, written in the same transaction
// as the order that caused it. Version counts writes; SyncedVersion is the newest write a
// finished sync has seen.
public class CustomerSyncRequest
{
    public required string Phone { get; set; }
    public long Version { get; set; }
    public long SyncedVersion { get; set; }
    public DateTime RequestedAt { get; set; }
}

// The one row saying whether a job that syncs the pending requests is queued and has not
// started yet. Order writes share that job (SyncScheduler.DispatchAsync); Claim counts the
// claims, so a writer stores its job id only on the claim it made.
public class PendingSyncDispatch
{
    public const int SingletonId = 1;

    public int Id { get; set; }
    public long Claim { get; set; }
    public DateTime? EnqueuedAt { get; set; }
    public string? JobId { get; set; }
}

internal sealed class CustomerSyncRequestConfiguration : IEntityTypeConfiguration<CustomerSyncRequest>
{
    public void Configure(EntityTypeBuilder<CustomerSyncRequest> request)
    {
        request.HasKey(r => r.Phone);
        request.Property(r => r.Phone).HasMaxLength(Customers.Customer.PhoneMaxLength);
        // The sweeper and the pending syncs look for requests no finished sync has seen.
        request.HasIndex(r => r.RequestedAt).HasFilter("version > synced_version").HasDatabaseName("ix_customer_sync_requests_dirty");
    }
}

internal sealed class PendingSyncDispatchConfiguration : IEntityTypeConfiguration<PendingSyncDispatch>
{
    public void Configure(EntityTypeBuilder<PendingSyncDispatch> dispatch)
    {
        dispatch.Property(d => d.Id).ValueGeneratedNever();
        dispatch.Property(d => d.JobId).HasMaxLength(100);
        dispatch.ToTable(t => t.HasCheckConstraint("ck_pending_sync_dispatch_singleton", $"id = {PendingSyncDispatch.SingletonId}"));
        dispatch.HasData(new PendingSyncDispatch { Id = PendingSyncDispatch.SingletonId });
    }
}
