using Crm.Jobs.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crm.Jobs.Shop;

internal sealed class ShopFollowerStateConfiguration : IEntityTypeConfiguration<ShopFollowerState>
{
    public void Configure(EntityTypeBuilder<ShopFollowerState> state)
    {
        state.ToTable("shop_follower", t => t.HasCheckConstraint("ck_shop_follower_single_row", "id = 1"));
        state.Property(s => s.Id).ValueGeneratedNever();
        state.Property(s => s.State).HasMaxLength(20).HasConversion(EnumText.Converter<ShopFollowerStatus>());
        state.Property(s => s.Slot).HasMaxLength(63);
        state.Property(s => s.Publication).HasMaxLength(63);
        state.Property(s => s.Holder).HasMaxLength(300);
        state.Property(s => s.WalStatus).HasMaxLength(20);
    }
}
