namespace Crm.Jobs.Orders;

// What an order and its PATCH have in common: one set of rules (OrderFieldsValidator) checks both.
public interface IOrderFields
{
    string? CustomerName { get; }
    string? CustomerPhone { get; }
    string? CustomerEmail { get; }
    string? DeliveryCity { get; }
    string? DeliveryAddress { get; }
    decimal? TotalAmount { get; }
    OrderStatus? Status { get; }
    DateTimeOffset? CreatedAt { get; }
}
