namespace Crm.Jobs.Shop;

// What the shop's server keeps for the slot, as pg_replication_slots and pg_settings say:
// RetainedBytes from the slot's restart_lsn to the current position (null: no such slot),
// WalStatus and SafeBytes (null while the keep size is unlimited), and the server's
// max_slot_wal_keep_size in bytes, -1 when unlimited (PostgreSQL's default).
public sealed record ShopSlotWal(long? RetainedBytes, string? WalStatus, long? SafeBytes, long MaxSlotWalKeepSize);
