using Npgsql;

namespace Crm.Tests.Infrastructure;

// The customers as their orders say they should be, computed independently of the engine
// (one plain GROUP BY, the default thresholds of docs/SYNC-RULES.md).
public static class CustomerAudit
{
    // Customers whose statistics or category differ from what their orders say, and phones
    // with orders but no customer; `except` are phones left out on purpose (refused ones).
    public static async Task<List<string>> WrongCustomersAsync(string connectionString, DateTime now, params string[] except)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            WITH agg AS (
                SELECT normalized_phone AS phone,
                       count(*) FILTER (WHERE status = 'completed')::int AS n,
                       coalesce(sum(total_amount) FILTER (WHERE status = 'completed'), 0) AS spent,
                       max(created_at) FILTER (WHERE status = 'completed') AS last
                FROM orders WHERE normalized_phone IS NOT NULL GROUP BY normalized_phone
            ), expected AS (
                SELECT coalesce(c.phone, a.phone) AS phone, c.id,
                       coalesce(a.n, 0) AS n, coalesce(a.spent, 0) AS spent,
                       CASE WHEN coalesce(a.n, 0) = 0 THEN 0 ELSE round(a.spent / a.n, 2) END AS average, a.last,
                       CASE WHEN coalesce(a.n, 0) = 0 THEN 'new'
                            WHEN a.last < @now - interval '180 days' THEN 'inactive'
                            WHEN a.n >= 10 OR a.spent >= 100000 THEN 'vip'
                            WHEN a.n >= 3 THEN 'regular'
                            ELSE 'new' END AS category,
                       c.total_orders, c.total_spent, c.average_order, c.last_order_date, c.category AS actual_category
                FROM customers c FULL JOIN agg a ON a.phone = c.phone
            )
            SELECT phone || ': expected ' || concat_ws(', ', n, spent, average, last, category) ||
                   ' got ' || coalesce(concat_ws(', ', total_orders, total_spent, average_order, last_order_date, actual_category), 'no customer')
            FROM expected
            WHERE (id IS NULL
                   OR (total_orders, total_spent, average_order, last_order_date, actual_category)
                      IS DISTINCT FROM (n, spent, average, last, category))
              AND phone <> ALL(@except)
            ORDER BY phone
            """, connection);
        command.Parameters.AddWithValue("now", now);
        command.Parameters.AddWithValue("except", except);
        var rows = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            rows.Add(reader.GetString(0));
        return rows;
    }
}
