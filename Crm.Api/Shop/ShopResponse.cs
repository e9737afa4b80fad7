using Crm.Jobs.Shop;

namespace Crm.Api.Shop;

public sealed record ShopResponse(
    ShopFollowerStatus State, long SnapshotRows, long OrdersApplied, long Rejected, long? LagBytes,
    DateTime? LastAppliedAt, string? Error, string? Slot, string? Publication, string? Holder, DateTime? UpdatedAt);
