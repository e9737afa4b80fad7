using Crm.Jobs.Orders;

namespace Crm.Jobs.Shop;

// One shop order, ready for the orders table: the shop's id, the order as the API would
// take it, its E.164 phone. AddressUnchanged: an update left a TOASTed address untouched and
// the stream did not carry it (keep ours).
public sealed record ShopOrder(string ShopId, OrderInput Order, string? NormalizedPhone, bool AddressUnchanged = false);
