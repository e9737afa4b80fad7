using Npgsql;

namespace Crm.Jobs.Categories;

// SPEC §3: the first rule that holds decides. One SQL expression, used by the sync engine
// and by the recalculation job, so the rule lives in one place.
public static class CategoryRules
{
    public static string Sql(string totalOrders, string totalSpent, string lastOrderDate) => $"""
        CASE
            WHEN {totalOrders} = 0 THEN 'new'
            WHEN {lastOrderDate} < @inactive_before THEN 'inactive'
            WHEN {totalOrders} >= @vip_min_orders OR {totalSpent} >= @vip_min_spent THEN 'vip'
            WHEN {totalOrders} >= @regular_min_orders THEN 'regular'
            ELSE 'new'
        END
        """;

    public static void AddParameters(NpgsqlCommand command, CategoryOptions options, DateTime now)
    {
        command.Parameters.AddWithValue("inactive_before", now.AddDays(-options.InactiveAfterDays));
        command.Parameters.AddWithValue("vip_min_orders", options.VipMinOrders);
        command.Parameters.AddWithValue("vip_min_spent", options.VipMinSpent);
        command.Parameters.AddWithValue("regular_min_orders", options.RegularMinOrders);
    }
}
