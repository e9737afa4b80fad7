using System.Linq.Expressions;
using System.Text.Json.Serialization;
using Crm.Jobs.Customers;

namespace Crm.Api.Customers;

public sealed record CustomerResponse(
    long Id,
    string Name,
    string Phone,
    string Email,
    string City,
    string Address,
    string Notes,
    CustomerCategory Category,
    int TotalOrders,
    decimal TotalSpent,
    decimal AverageOrder,
    DateTime? LastOrderDate,
    DateTime CreatedAt,
    DateTime UpdatedAt)
{
    public static readonly Expression<Func<Customer, CustomerResponse>> Projection = c => new CustomerResponse(
        c.Id, c.Name, c.Phone, c.Email, c.City, c.Address, c.Notes, c.Category,
        c.TotalOrders, c.TotalSpent, c.AverageOrder, c.LastOrderDate, c.CreatedAt, c.UpdatedAt);

    private static readonly Func<Customer, CustomerResponse> FromEntity = Projection.Compile();

    public static CustomerResponse From(Customer customer) => FromEntity(customer);

    // Only GET /api/customers/{id} explains the category: the explanation depends on the
    // configured thresholds and today's date, so lists and writes stay plain projections.
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public CategoryReason? CategoryReason { get; init; }

    // GET /api/customers/{id} and the answers of its writes (not lists): every phone its orders
    // go by, the primary one (phone) first.
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Phones { get; init; }
}
