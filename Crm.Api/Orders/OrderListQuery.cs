using Crm.Api.Infrastructure;

namespace Crm.Api.Orders;

public sealed record OrderListQuery(string? Phone = null, string? Status = null, int Page = 1, int PageSize = 50, string? Count = null)
    : IPageQuery;
