namespace Crm.Jobs.Orders;

// An order as the shop sends it: the body of POST /api/orders, one NDJSON line or one CSV
// row of an import (same field names). Everything but the amount is optional.
public sealed record OrderInput(
    string? CustomerName = null,
    string? CustomerPhone = null,
    string? CustomerEmail = null,
    string? DeliveryCity = null,
    string? DeliveryAddress = null,
    decimal? TotalAmount = null,
    OrderStatus? Status = null,
    DateTimeOffset? CreatedAt = null) : IOrderFields;
