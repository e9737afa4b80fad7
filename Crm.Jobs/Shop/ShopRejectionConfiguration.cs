using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crm.Jobs.Shop;

internal sealed class ShopRejectionConfiguration : IEntityTypeConfiguration<ShopRejection>
{
    public void Configure(EntityTypeBuilder<ShopRejection> rejection)
    {
        rejection.Property(r => r.ShopId).HasMaxLength(ShopRows.ShopIdMaxLength);
        rejection.HasIndex(r => new { r.Lsn, r.ShopId }).IsUnique();
        rejection.HasIndex(r => r.RejectedAt);
    }
}
