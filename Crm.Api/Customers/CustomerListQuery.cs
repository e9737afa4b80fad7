using Crm.Api.Infrastructure;

namespace Crm.Api.Customers;

// GET /api/customers: a segment (every filter given must hold), searched, ordered and paged.
// The time bounds are ISO 8601 text (CustomerFilters.ParseTime): a date or time without an
// offset is UTC, whatever the server's time zone; a negative duration (-P60D) is that long
// before now. A saved segment's filter is this query's filters (Segments/SegmentFilter).
public sealed record CustomerListQuery(
    string[]? Category = null, string? City = null, decimal? MinSpent = null, decimal? MaxSpent = null,
    int? MinOrders = null, int? MaxOrders = null, string? LastOrderFrom = null, string? LastOrderTo = null,
    string? CreatedFrom = null, string? CreatedTo = null,
    string? Search = null, string? Ordering = null, int Page = 1, int PageSize = 50, string? Count = null)
    : IPageQuery;
