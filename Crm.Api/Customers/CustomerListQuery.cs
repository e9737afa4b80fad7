using Crm.Api.Infrastructure;

namespace Crm.Api.Customers;

public sealed record CustomerListQuery(
    string? Category = null, string? Search = null, string? Ordering = null, int Page = 1, int PageSize = 50, string? Count = null)
    : IPageQuery;
