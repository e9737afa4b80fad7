using Crm.Jobs.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using NpgsqlTypes;

namespace Crm.Jobs.Shop;

public enum ShopFollowerStatus
{
    Disabled,
    Snapshotting,
    Following,
    Reconnecting,
    Failed,
}

// The follower's one row (id 1): where it is in the shop's stream, what it has done, and
// what it saw last. Written by the follower holding the lock; read by GET /api/shop, the
// readiness check and the Syncs page of any process.
public class ShopFollowerState
{
    public int Id { get; set; } = 1;
    public ShopFollowerStatus State { get; set; }
    public string Slot { get; set; } = "";
    public string Publication { get; set; } = "";

    // True when the follower created the publication (shop-unfollow then drops it too).
    public bool PublicationCreated { get; set; }

    // The shop transaction whose end this database has applied: replays up to it are skipped.
    // Null until a snapshot has been applied.
    public NpgsqlLogSequenceNumber? AppliedLsn { get; set; }
    public long SnapshotRows { get; set; }
    public DateTime? SnapshotCompletedAt { get; set; }
    public long OrdersApplied { get; set; }
    public long Rejected { get; set; }
    public long? LagBytes { get; set; }
    public DateTime? LastAppliedAt { get; set; }
    public string? Error { get; set; }

    // host:pid of the process following, for the operator.
    public string? Holder { get; set; }
    public DateTime UpdatedAt { get; set; }
}

// A shop row the follower could not take (no amount, unknown status, ...): skipped, kept here.
public class ShopRejection
{
    public long Id { get; set; }
    public required string ShopId { get; set; }
    public required string Reason { get; set; }

    // The end of the shop transaction (or the snapshot's consistent point) that carried it:
    // with ShopId, unique, so a replayed transaction records nothing twice.
    public NpgsqlLogSequenceNumber Lsn { get; set; }
    public DateTime RejectedAt { get; set; }
}

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
    }
}

internal sealed class ShopRejectionConfiguration : IEntityTypeConfiguration<ShopRejection>
{
    public void Configure(EntityTypeBuilder<ShopRejection> rejection)
    {
        rejection.Property(r => r.ShopId).HasMaxLength(ShopRows.ShopIdMaxLength);
        rejection.HasIndex(r => new { r.Lsn, r.ShopId }).IsUnique();
        rejection.HasIndex(r => r.RejectedAt);
    }
}
