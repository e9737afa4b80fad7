using System.Linq.Expressions;
using System.Text.Json.Serialization;
using Crm.Jobs.Orders;

namespace Crm.Api.Customers;

public sealed record OriginalOrder(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("customer_name")] string CustomerName,
    [property: JsonPropertyName("customer_phone")] string CustomerPhone,
    [property: JsonPropertyName("customer_email")] string CustomerEmail,
    [property: JsonPropertyName("delivery_city")] string DeliveryCity,
    [property: JsonPropertyName("delivery_address")] string DeliveryAddress,
    [property: JsonPropertyName("total_amount")] decimal TotalAmount,
    [property: JsonPropertyName("status")] OrderStatus Status,
    [property: JsonPropertyName("created_at")] DateTime CreatedAt)
{
    public static readonly Expression<Func<Order, OriginalOrder>> Projection = o => new OriginalOrder(
        o.Id, o.CustomerName, o.CustomerPhone, o.CustomerEmail, o.DeliveryCity, o.DeliveryAddress, o.TotalAmount, o.Status, o.CreatedAt);
}
