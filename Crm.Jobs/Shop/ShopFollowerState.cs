using NpgsqlTypes;

namespace Crm.Jobs.Shop;

// The follower's one row (id 1): where it is in the shop's stream, what it has done, and
// what it saw last. Written by the follower holding the lock, through ShopFollowerStateStore;
// read by GET /api/shop, the readiness check and the Syncs page of any process.
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

    // The shop's WAL the slot holds, from its restart_lsn, measured every StatusInterval by the
    // process holding the follower's lock in every state (ShopWalMonitor); see ShopSlotWal.
    public long? RetainedWalBytes { get; set; }
    public string? WalStatus { get; set; }
    public long? SafeWalBytes { get; set; }

    // The shop's max_slot_wal_keep_size in bytes; -1: unlimited, the slot may fill the shop's disk.
    public long? MaxSlotWalKeepSize { get; set; }
    public DateTime? WalMeasuredAt { get; set; }

    // host:pid of the process following, for the operator.
    public string? Holder { get; set; }
    public DateTime UpdatedAt { get; set; }
}
