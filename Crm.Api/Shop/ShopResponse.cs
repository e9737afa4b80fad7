using Crm.Jobs.Shop;

namespace Crm.Api.Shop;

// RetainedWalBytes, WalStatus, SafeWalBytes, MaxSlotWalKeepSize (-1: unlimited) and WalMeasuredAt
// are the slot's hold on the shop's WAL (ShopSlotWal); Warnings says in words what needs a DBA.
public sealed record ShopResponse(
    ShopFollowerStatus State, long SnapshotRows, long OrdersApplied, long Rejected, long? LagBytes,
    DateTime? LastAppliedAt, string? Error, string? Slot, string? Publication, string? Holder, DateTime? UpdatedAt,
    long? RetainedWalBytes, string? WalStatus, long? SafeWalBytes, long? MaxSlotWalKeepSize, DateTime? WalMeasuredAt,
    IReadOnlyList<string> Warnings);
