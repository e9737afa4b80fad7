using System.Linq.Expressions;
using System.Text.Json.Serialization;
using Crm.Api.Infrastructure;
using Crm.Jobs.Categories;
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
}

// Why a customer is in its category: the rule that decided and its explanation, both from
// CategoryRules (the same list that computed the category).
public sealed record CategoryReason(CategoryRule Rule, string Text)
{
    public static CategoryReason Of(
        CategoryRule rule, int totalOrders, decimal totalSpent, DateTime? lastOrderDate, CategoryThresholds thresholds) =>
        new(rule, CategoryRules.Explain(rule, new CategoryRules.Statistics(totalOrders, totalSpent, lastOrderDate), thresholds));
}

// POST and PUT: the editable fields only; statistics, category, id and timestamps are
// computed, and sending them is a 400 (unknown JSON members are rejected).
public sealed record CustomerRequest(
    string? Name, string? Phone, string? Email, string? City, string? Address, string? Notes) : ICustomerFields;

// PATCH: a field left out (or sent as null) keeps its value; "" clears an optional field.
public sealed record CustomerPatchRequest(
    string? Name, string? Phone, string? Email, string? City, string? Address, string? Notes) : ICustomerFields;

public interface ICustomerFields
{
    string? Name { get; }
    string? Phone { get; }
    string? Email { get; }
    string? City { get; }
    string? Address { get; }
    string? Notes { get; }
}

public sealed record CustomerListQuery(
    string? Category = null, string? Search = null, string? Ordering = null, int Page = 1, int PageSize = 50, string? Count = null)
    : IPageQuery;

public sealed record NoteRequest(string? Note);

public sealed record NoteResponse(long Id, long CustomerId, string Note, string CreatedBy, DateTime CreatedAt)
{
    public static NoteResponse From(CustomerNote n) => new(n.Id, n.CustomerId, n.Note, n.CreatedBy, n.CreatedAt);
}
