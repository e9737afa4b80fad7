using System.Linq.Expressions;
using Crm.Api.Infrastructure;
using Crm.Jobs.Data;
using Crm.Jobs.Orders;
using Crm.Jobs.Phones;
using FluentValidation;

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

public sealed record OrderListQuery(string? Phone = null, string? Status = null, int Page = 1, int PageSize = 50, string? Count = null)
    : IPageQuery;

public sealed record ImportResponse(int Imported, int Rejected, IReadOnlyList<ImportError> Errors, string? JobId, string? StatusUrl);

public sealed class OrderListQueryValidator : AbstractValidator<OrderListQuery>
{
    public OrderListQueryValidator(PhoneNormalizer phones)
    {
        RuleFor(q => q.Phone)
            .Must(p => p is null || phones.Normalize(p) is not null)
            .WithMessage("Phone is not a possible phone number.");
        RuleFor(q => q.Status)
            .Must(s => s is null || EnumText.TryParse<OrderStatus>(s, out _))
            .WithMessage($"Status must be one of: {EnumText.SqlList<OrderStatus>()}.");
        this.ValidPaging();
    }
}
