using System.Diagnostics;
using System.Text;
using Npgsql;

namespace Crm.Bench;

// The floor: the first full sync written by hand as one set-based statement into the same
// customers table (same indexes, constraints and generated search column) — what PostgreSQL
// itself needs to do the work, with no engine around it. Written independently of the app's
// SQL; the bench checks that both produce the same customers.
public static class ReferenceSync
{
    private const string Columns = """
        name, phone, email, city, address, total_orders, total_spent, average_order,
        last_order_date, category, created_at, updated_at
        """;

    // Every customer with its statistics and category, one row per phone, named like the columns.
    private const string Select = """
        SELECT coalesce(nullif(l.name, ''), 'Без имени') AS name, l.phone, l.email, l.city, l.address,
               coalesce(s.total_orders, 0) AS total_orders, coalesce(s.total_spent, 0) AS total_spent,
               coalesce(round(s.total_spent / s.total_orders, 2), 0) AS average_order, s.last_order_date,
               CASE
                   WHEN s.total_orders IS NULL THEN 'new'
                   WHEN s.last_order_date < now() - interval '180 days' THEN 'inactive'
                   WHEN s.total_orders >= 10 OR s.total_spent >= 100000 THEN 'vip'
                   WHEN s.total_orders >= 3 THEN 'regular'
                   ELSE 'new'
               END AS category,
               now() AS created_at, now() AS updated_at
        FROM (SELECT DISTINCT ON (normalized_phone)
                     normalized_phone AS phone,
                     btrim(customer_name, E' \t\r\n') AS name,
                     btrim(customer_email, E' \t\r\n') AS email,
                     btrim(delivery_city, E' \t\r\n') AS city,
                     btrim(delivery_address, E' \t\r\n') AS address
              FROM orders
              WHERE normalized_phone IS NOT NULL
              ORDER BY normalized_phone, created_at DESC, id DESC) l
        LEFT JOIN (SELECT normalized_phone AS phone, count(*)::int AS total_orders,
                          sum(total_amount) AS total_spent, max(created_at) AS last_order_date
                   FROM orders
                   WHERE status = 'completed' AND normalized_phone IS NOT NULL
                   GROUP BY normalized_phone) s ON s.phone = l.phone
        """;

    public const string Sql = $"INSERT INTO customers ({Columns})\n{Select}";

    // EXPLAIN ANALYZE executes the insert: inside a transaction that is rolled back.
    public static async Task<string> ExplainAsync(BenchDatabase database)
    {
        var plan = new StringBuilder();
        await InRolledBackTransactionAsync(database, async (connection, transaction) =>
        {
            await using var command = new NpgsqlCommand($"EXPLAIN (ANALYZE, BUFFERS) {Sql}", connection, transaction) { CommandTimeout = 0 };
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
                plan.AppendLine(reader.GetString(0));
        });
        return plan.ToString();
    }

    // Where the statement's time goes, each part timed in a transaction that is rolled back
    // (so none of them pays the commit): the query alone (into a temp table, no WAL), the
    // insert without the trigram index, without any secondary index, and whole.
    public static async Task<Dictionary<string, double>> BreakdownAsync(BenchDatabase database)
    {
        var secondary = await IndexesAsync(database, "NOT i.indisprimary AND NOT i.indisunique");
        var trigram = await IndexesAsync(database, "am.amname = 'gin'");
        return new Dictionary<string, double>
        {
            ["the SELECT alone (into a temp table)"] = await TimeRolledBackAsync(database, [], $"CREATE TEMP TABLE bench_reference AS {Select}"),
            ["INSERT without any secondary index (pk and unique phone kept)"] = await TimeRolledBackAsync(database, secondary, Sql),
            ["INSERT without the trigram (GIN) index"] = await TimeRolledBackAsync(database, trigram, Sql),
            ["INSERT with every index (as measured, minus the commit)"] = await TimeRolledBackAsync(database, [], Sql),
        };
    }

    private static async Task<string[]> IndexesAsync(BenchDatabase database, string condition)
    {
        var names = new List<string>();
        await using var command = database.DataSource.CreateCommand($"""
            SELECT i.indexrelid::regclass::text
            FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
            WHERE i.indrelid = 'customers'::regclass AND {condition}
            """);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            names.Add(reader.GetString(0));
        return [.. names];
    }

    private static async Task<double> TimeRolledBackAsync(BenchDatabase database, string[] dropIndexes, string sql)
    {
        await database.ResetCustomersAsync();
        await database.SettleAsync();
        double elapsed = 0;
        await InRolledBackTransactionAsync(database, async (connection, transaction) =>
        {
            foreach (var index in dropIndexes)
            {
                await using var drop = new NpgsqlCommand($"DROP INDEX {index}", connection, transaction);
                await drop.ExecuteNonQueryAsync();
            }
            await using var command = new NpgsqlCommand(sql, connection, transaction) { CommandTimeout = 0 };
            var stopwatch = Stopwatch.StartNew();
            await command.ExecuteNonQueryAsync();
            elapsed = stopwatch.Elapsed.TotalMilliseconds;
        });
        return elapsed;
    }

    private static async Task InRolledBackTransactionAsync(BenchDatabase database, Func<NpgsqlConnection, NpgsqlTransaction, Task> work)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await work(connection, transaction);
        await transaction.RollbackAsync();
    }
}
