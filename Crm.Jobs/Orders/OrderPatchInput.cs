namespace Crm.Jobs.Orders;

// PATCH: a field left out (or null) keeps its value.
public sealed record OrderPatchInput(
    string? CustomerName = null,
    string? CustomerPhone = null,
    string? CustomerEmail = null,
    string? DeliveryCity = null,
    string? DeliveryAddress = null,
    decimal? TotalAmount = null,
    OrderStatus? Status = null,
    DateTimeOffset? CreatedAt = null) : IOrderFields;
