using Crm.Api.Customers;
using Crm.Api.Infrastructure;

namespace Crm.Api.Segments;

// GET /api/segments/{id}/customers: paged as GET /api/customers; ordering overrides the segment's own.
public sealed record SegmentCustomersQuery(string? Ordering = null, int Page = 1, int PageSize = 50, string? Count = null) : IPageQuery
{
    public CustomerListQuery Over(SegmentFilter filter) =>
        filter.ToQuery() with { Ordering = Ordering ?? filter.Ordering, Page = Page, PageSize = PageSize, Count = Count };
}
