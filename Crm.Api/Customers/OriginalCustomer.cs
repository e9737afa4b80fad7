using System.Linq.Expressions;
using System.Text.Json.Serialization;
using Crm.Jobs.Customers;

namespace Crm.Api.Customers;

public sealed record OriginalCustomer(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("phone")] string Phone,
    [property: JsonPropertyName("email")] string Email,
    [property: JsonPropertyName("city")] string City,
    [property: JsonPropertyName("address")] string Address,
    [property: JsonPropertyName("category")] CustomerCategory Category,
    [property: JsonPropertyName("total_orders")] int TotalOrders,
    [property: JsonPropertyName("total_spent")] decimal TotalSpent,
    [property: JsonPropertyName("average_order")] decimal AverageOrder,
    [property: JsonPropertyName("last_order_date")] DateTime? LastOrderDate,
    [property: JsonPropertyName("notes")] string Notes,
    [property: JsonPropertyName("created_at")] DateTime CreatedAt,
    [property: JsonPropertyName("updated_at")] DateTime UpdatedAt)
{
    public static readonly Expression<Func<Customer, OriginalCustomer>> Projection = c => new OriginalCustomer(
        c.Id, c.Name, c.Phone, c.Email, c.City, c.Address, c.Category,
        c.TotalOrders, c.TotalSpent, c.AverageOrder, c.LastOrderDate, c.Notes, c.CreatedAt, c.UpdatedAt);
}
