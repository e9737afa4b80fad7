using System.Linq.Expressions;
using Crm.Jobs.Customers;

namespace Crm.Api.Customers;

// `ordering` values: camelCase names, or the seed's snake_case spellings; "-" for descending.
public static class CustomerOrdering
{
    public const string Default = "-createdAt";

    private static readonly Dictionary<string, string> Aliases = new()
    {
        ["name"] = "name",
        ["createdAt"] = "createdAt",
        ["created_at"] = "createdAt",
        ["totalOrders"] = "totalOrders",
        ["total_orders"] = "totalOrders",
        ["totalSpent"] = "totalSpent",
        ["total_spent"] = "totalSpent",
        ["averageOrder"] = "averageOrder",
        ["average_order"] = "averageOrder",
        ["lastOrderDate"] = "lastOrderDate",
        ["last_order_date"] = "lastOrderDate",
    };

    public static IEnumerable<string> Names => Aliases.Values.Distinct();

    public static bool IsKnown(string ordering) => Aliases.ContainsKey(Key(ordering));

    public static IOrderedQueryable<Customer> Apply(IQueryable<Customer> customers, string? ordering)
    {
        ordering ??= Default;
        var descending = ordering.StartsWith('-');
        return Aliases[Key(ordering)] switch
        {
            "name" => By(customers, c => c.Name, descending),
            "totalOrders" => By(customers, c => c.TotalOrders, descending),
            "totalSpent" => By(customers, c => c.TotalSpent, descending),
            "averageOrder" => By(customers, c => c.AverageOrder, descending),
            // Customers who never ordered come last either way (PostgreSQL sorts NULL last ascending).
            "lastOrderDate" when descending => customers.OrderBy(c => c.LastOrderDate == null)
                .ThenByDescending(c => c.LastOrderDate).ThenByDescending(c => c.Id),
            "lastOrderDate" => By(customers, c => c.LastOrderDate, descending),
            _ => By(customers, c => c.CreatedAt, descending),
        };
    }

    private static string Key(string ordering) => ordering.StartsWith('-') ? ordering[1..] : ordering;

    // Id breaks ties so that pages never overlap or skip rows.
    private static IOrderedQueryable<Customer> By<TKey>(
        IQueryable<Customer> customers, Expression<Func<Customer, TKey>> key, bool descending) =>
        descending
            ? customers.OrderByDescending(key).ThenByDescending(c => c.Id)
            : customers.OrderBy(key).ThenBy(c => c.Id);
}
