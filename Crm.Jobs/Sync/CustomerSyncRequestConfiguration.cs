using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crm.Jobs.Sync;

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
