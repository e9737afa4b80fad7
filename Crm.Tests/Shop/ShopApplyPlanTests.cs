using Crm.Jobs.Shop;
using Crm.Tests.Infrastructure;
using Npgsql;

namespace Crm.Tests.Shop;

// Applying one shop change touches that order alone: every statement of the apply reaches
// orders through the (source, source_id) index, never by scanning the table.
public class ShopApplyPlanTests : IAsyncLifetime
{
    private string _database = "";

    public async Task InitializeAsync() => _database = await TestDatabase.CreateAsync();

    public Task DisposeAsync() => TestDatabase.DropAsync(_database);

    [Fact]
    public async Task OneShopChangeIsAppliedThroughTheSourceIndex()
    {
        await using var connection = new NpgsqlConnection(TestDatabase.ConnectionStringFor(_database));
        await connection.OpenAsync();
        await using (var seed = new NpgsqlCommand("""
            INSERT INTO orders (customer_name, customer_phone, normalized_phone, total_amount, status, created_at, updated_at, source, source_id)
            SELECT 'Покупатель', '+7999' || lpad((i % 20000)::text, 7, '0'), '+7999' || lpad((i % 20000)::text, 7, '0'),
                   100, 'completed', now() - i * interval '1 minute', now(),
                   CASE WHEN i % 2 = 0 THEN 'shop' ELSE 'api' END, CASE WHEN i % 2 = 0 THEN i::text END
            FROM generate_series(1, 100000) AS i;
            ANALYZE orders;
            """, connection) { CommandTimeout = 0 })
            await seed.ExecuteNonQueryAsync();

        await using var transaction = await connection.BeginTransactionAsync();
        await using (var stage = new NpgsqlCommand(ShopBatch.CreateStagingSql + ";\n" + """
            INSERT INTO shop_incoming (op, source_id, customer_name, customer_phone, normalized_phone, customer_email,
                                       delivery_city, delivery_address, keep_address, total_amount, status, created_at)
            VALUES ('u', '1000', 'Анна', '+79990000001', '+79990000001', '', '', '', false, 10, 'completed', now()),
                   ('d', '2000', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
            """, connection, transaction))
            await stage.ExecuteNonQueryAsync();

        foreach (var (name, sql) in new[] { ("record", ShopBatch.RecordSql), ("merge", ShopBatch.MergeSql) })
        {
            await using var explain = new NpgsqlCommand("EXPLAIN (ANALYZE, BUFFERS) " + sql, connection, transaction);
            var plan = new List<string>();
            await using (var reader = await explain.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                    plan.Add(reader.GetString(0));
            }
            var text = string.Join("\n", plan);
            Assert.DoesNotContain("Seq Scan on orders", text);
            Assert.True(text.Contains("ix_orders_source_source_id"), $"{name} does not use the source index:\n{text}");
        }
        await transaction.RollbackAsync();
    }
}
