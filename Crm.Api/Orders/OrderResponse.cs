using System.Linq.Expressions;
using Crm.Jobs.Orders;

namespace Crm.Api.Orders;

// After a write, SyncJobId is the job that will bring the order's customer up to date
// (null when the order has no usable phone); PreviousCustomerSyncJobId the one for the
// customer the order moved away from when its phone changed. Both are null on reads.
public sealed record OrderResponse(
    long Id,
    string CustomerName,
    string CustomerPhone,
    string? NormalizedPhone,
    string CustomerEmail,
    string DeliveryCity,
    string DeliveryAddress,
    decimal TotalAmount,
    OrderStatus Status,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    OrderSource Source,
    string? SourceId,
    string? SyncJobId = null,
    string? PreviousCustomerSyncJobId = null)
{
    public static readonly Expression<Func<Order, OrderResponse>> Projection = o => new OrderResponse(
        o.Id, o.CustomerName, o.CustomerPhone, o.NormalizedPhone, o.CustomerEmail, o.DeliveryCity,
        o.DeliveryAddress, o.TotalAmount, o.Status, o.CreatedAt, o.UpdatedAt, o.Source, o.SourceId, null, null);

    private static readonly Func<Order, OrderResponse> FromEntity = Projection.Compile();

    public static OrderResponse From(Order order) => FromEntity(order);
}
