using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crm.Jobs.Sync;

internal sealed class SyncErrorConfiguration : IEntityTypeConfiguration<SyncError>
{
    public void Configure(EntityTypeBuilder<SyncError> error)
    {
        error.HasKey(e => e.Phone);
        // Orders keep whatever phone text the shop sent; the normalised form fits this.
        error.Property(e => e.Phone).HasMaxLength(Customers.Customer.PhoneMaxLength);
        error.Property(e => e.SqlState).HasMaxLength(5);
        error.HasIndex(e => e.LastFailedAt);
    }
}
