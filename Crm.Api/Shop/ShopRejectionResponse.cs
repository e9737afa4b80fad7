namespace Crm.Api.Shop;

public sealed record ShopRejectionResponse(long Id, string ShopId, string Reason, string Lsn, DateTime RejectedAt);
