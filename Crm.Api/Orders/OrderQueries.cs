using Crm.Api.Infrastructure;
using Crm.Jobs.Data;
using Crm.Jobs.Orders;
using Microsoft.EntityFrameworkCore;

namespace Crm.Api.Orders;

// Orders as the order list, a customer's history and the original routes read them.
public sealed class OrderQueries(CrmDbContext db)
{
    // A customer's orders, by the phone they go by.
    // The orders of every phone of a customer (CustomerQueries.PhonesOfAsync): one query per
    // phone, UNION ALL, so that a page newest first reads each phone's index range (merged or
    // sorted: the customer's own rows). One condition over a list of phones may instead let the
    // planner walk the whole table's created_at index newest first, as the timeline's `= ANY`
    // did (TimelinePlanTests).
    public IQueryable<Order> OfCustomer(IReadOnlyList<string> phones) =>
        phones.Select(OfPhone).Aggregate((all, next) => all.Concat(next));

    private IQueryable<Order> OfPhone(string phone) => db.Orders.AsNoTracking().Where(o => o.NormalizedPhone == phone);

    // A customer's history and the order list: newest first, id breaking ties.
    public Task<PagedResponse<OrderResponse>> NewestFirstAsync(IQueryable<Order> orders, IPageQuery query, CancellationToken ct) =>
        orders.ToPageAsync(db, query, NewestFirst, OrderResponse.Projection, ct);

    // The order of the index on (normalized_phone, created_at desc, id desc): a customer's
    // history is a range scan of it.
    public static IQueryable<Order> NewestFirst(IQueryable<Order> orders) =>
        orders.OrderByDescending(o => o.CreatedAt).ThenByDescending(o => o.Id);
}
