using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crm.Jobs.Sync;

// The durable "this customer needs an auto sync" record, written in the same transaction
// as the order that caused it. Version counts writes; SyncedVersion is the newest write a
// finished sync has seen; EnqueuedAt is set while a job is queued and not yet started.
public class CustomerSyncRequest
{
    public required string Phone { get; set; }
    public long Version { get; set; }
    public long SyncedVersion { get; set; }
    public DateTime RequestedAt { get; set; }
    public DateTime? EnqueuedAt { get; set; }
    public string? JobId { get; set; }
}

internal sealed class CustomerSyncRequestConfiguration : IEntityTypeConfiguration<CustomerSyncRequest>
{
    public void Configure(EntityTypeBuilder<CustomerSyncRequest> request)
    {
        request.HasKey(r => r.Phone);
        request.Property(r => r.Phone).HasMaxLength(Customers.Customer.PhoneMaxLength);
        request.Property(r => r.JobId).HasMaxLength(100);
        // The sweeper and the import job look for requests no finished sync has seen.
        request.HasIndex(r => r.RequestedAt).HasFilter("version > synced_version").HasDatabaseName("ix_customer_sync_requests_dirty");
    }
}
