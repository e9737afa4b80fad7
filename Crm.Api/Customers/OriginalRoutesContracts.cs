using System.Linq.Expressions;
using System.Text.Json.Serialization;
using Crm.Jobs.Customers;
using Crm.Jobs.Orders;
using FluentValidation;
using Microsoft.AspNetCore.Mvc;

namespace Crm.Api.Customers;

// The original Django CRM's bodies are snake_case: these records name their fields for it,
// so only these answers differ from the API's camelCase (and the OpenAPI schemas say so).
public sealed record OriginalSyncResult(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("created_count")] int CreatedCount,
    [property: JsonPropertyName("updated_count")] int UpdatedCount,
    [property: JsonPropertyName("error_count")] int ErrorCount,
    [property: JsonPropertyName("total_customers")] int TotalCustomers,
    [property: JsonPropertyName("job_id")] string JobId);

public sealed record OriginalJobAccepted(
    [property: JsonPropertyName("job_id")] string JobId,
    [property: JsonPropertyName("status_url")] string StatusUrl);

public sealed record OriginalError(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("job_id")] string JobId,
    [property: JsonPropertyName("status_url")] string StatusUrl);

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

// How long a POST waits for its job before answering 202 with the job to follow; named
// for the document too, which would otherwise show the property's spelling, Wait.
public sealed record WaitQuery([FromQuery(Name = "wait")] int Wait = OriginalRoutesEndpoints.DefaultWaitSeconds);

public sealed class WaitQueryValidator : AbstractValidator<WaitQuery>
{
    public WaitQueryValidator() =>
        RuleFor(q => q.Wait).InclusiveBetween(0, OriginalRoutesEndpoints.MaxWaitSeconds)
            .WithMessage($"Wait is the number of seconds to wait for the job: 0 to {OriginalRoutesEndpoints.MaxWaitSeconds}.");
}
