using Crm.Api.Customers;
using Crm.Api.Orders;
using Crm.Jobs.Data;
using Crm.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Crm.Tests.Ledger;

// A customer's timeline costs what its page costs, not what the tables hold: over 100 000
// orders and 100 000 ledger rows, every branch of the statement is an index range of that
// customer, read from PostgreSQL's own plan (EXPLAIN ANALYZE), not from timings.
public class TimelinePlanTests : IAsyncLifetime
{
    private const string Phone = "+79980000001";
    private string _database = "";

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        // 20 000 customers with five ledger rows each (created and four city changes), 100 000
        // orders spread over their phones in time, 2 000 of them the first customer's, and notes.
        await ExecuteAsync("""
            INSERT INTO customers (name, phone, created_at, updated_at)
            SELECT 'Клиент ' || i, '+7998' || lpad(i::text, 7, '0'), now() - interval '400 days', now() - interval '400 days'
            FROM generate_series(1, 20000) AS i;
            UPDATE customers SET city = 'Москва', updated_at = now() - interval '4 days';
            UPDATE customers SET city = 'Казань', updated_at = now() - interval '3 days';
            UPDATE customers SET city = 'Самара', updated_at = now() - interval '2 days';
            UPDATE customers SET city = 'Пермь', updated_at = now() - interval '1 day';
            INSERT INTO orders (customer_name, customer_phone, normalized_phone, total_amount, status, created_at, updated_at)
            SELECT 'Клиент', p, p, 100, 'completed', now() - i * interval '1 minute', now()
            FROM generate_series(1, 100000) AS i,
                 LATERAL (SELECT CASE WHEN i % 50 = 0 THEN '+79980000001' ELSE '+7998' || lpad((i % 20000 + 1)::text, 7, '0') END AS p) AS phone;
            INSERT INTO customer_notes (customer_id, note, created_by, created_at)
            SELECT c.id, 'Заметка ' || i, 'test', now() - i * interval '1 hour'
            FROM customers c, generate_series(1, 3) AS i;
            ANALYZE customers; ANALYZE orders; ANALYZE customer_changes; ANALYZE customer_notes;
            """);
    }

    public Task DisposeAsync() => TestDatabase.DropAsync(_database);

    [Fact]
    public async Task APageDeepInALongHistoryReadsOnlyThatCustomersIndexRanges()
    {
        var id = await ScalarAsync<long>($"SELECT id FROM customers WHERE phone = '{Phone}'");
        var (page, pageSize) = (5, 50);

        var plan = await ExplainAsync(CustomerTimeline.PageSql, new()
        {
            ["id"] = id, ["phones"] = new[] { Phone }, ["window"] = (long)page * pageSize, ["page_size"] = pageSize, ["offset"] = (page - 1) * pageSize,
        });

        Assert.DoesNotContain("Seq Scan on orders", plan);
        Assert.DoesNotContain("Seq Scan on customer_changes", plan);
        Assert.True(plan.Contains("ix_orders_normalized_phone_created_at_id") && plan.Contains("ix_customer_changes_customer_id_changed_at_id"),
            $"the timeline does not read the customer's index ranges:\n{plan}");
        // No branch reads more than the page's depth of rows.
        Assert.Contains($"Limit (actual rows={page * pageSize} loops=1)", plan.Replace("  ", " "));
    }

    // A customer with three phones: each phone's index range, sorted, still no table read whole.
    [Fact]
    public async Task APageOfACustomerWithThreePhonesReadsOnlyItsPhonesIndexRanges()
    {
        var id = await ScalarAsync<long>($"SELECT id FROM customers WHERE phone = '{Phone}'");
        string[] phones = [Phone, "+79980000002", "+79980000003"];

        var plan = await ExplainAsync(CustomerTimeline.PageSql, new()
        {
            ["id"] = id, ["phones"] = phones, ["window"] = 100L, ["page_size"] = 50, ["offset"] = 50,
        });

        Assert.DoesNotContain("Seq Scan on orders", plan);
        Assert.True(plan.Contains("ix_orders_normalized_phone_created_at_id"), $"the timeline does not read the phones' index ranges:\n{plan}");
        Assert.Contains("Limit (actual rows=100 loops=1)", plan.Replace("  ", " "));
    }

    // GET /api/customers/{id}/orders of a customer with three phones (OrderQueries.OfCustomer),
    // one of them with 2 000 orders: a page reads each phone's index range (merged, or sorted
    // as the planner likes: the customer's own rows either way), never a walk of the created_at
    // index over the table's orders, which `IN (…)` let the planner choose.
    [Fact]
    public async Task AnOrdersPageOfACustomerWithThreePhonesReadsOnlyItsPhonesIndexRanges()
    {
        var options = new DbContextOptionsBuilder<CrmDbContext>();
        CrmDbContext.Configure(options, TestDatabase.ConnectionStringFor(_database));
        await using var db = new CrmDbContext(options.Options);
        var orders = new OrderQueries(db);
        var page = OrderQueries.NewestFirst(orders.OfCustomer([Phone, "+79980000002", "+79980000003"])).Skip(20).Take(10);

        // EF Core's SQL with its parameters written in as literals (it lists them in comments).
        var lines = page.ToQueryString().Split('\n');
        var sql = string.Join("\n", lines.Where(l => !l.StartsWith("-- ")));
        foreach (var parameter in lines.Where(l => l.StartsWith("-- @")).Select(l => l[3..].Split('=', 2)).OrderByDescending(p => p[0].Length))
            sql = sql.Replace(parameter[0], parameter[1].Trim('\'') is var value && value.All(char.IsAsciiDigit) ? value : parameter[1]);
        var plan = await ExplainAsync(sql, []);

        Assert.True(!plan.Contains("ix_orders_created_at") && !plan.Contains("Seq Scan on orders")
                    && plan.Split("ix_orders_normalized_phone_created_at_id").Length == 4,
            $"the page does not read just the three phones' index ranges:\n{plan}");
    }

    [Fact]
    public async Task TheCountStopsAtTheCapInsideTheCustomersIndexRanges()
    {
        var id = await ScalarAsync<long>($"SELECT id FROM customers WHERE phone = '{Phone}'");

        var plan = await ExplainAsync(CustomerTimeline.CountSql, new() { ["id"] = id, ["cap"] = 1001L });

        Assert.DoesNotContain("Seq Scan on orders", plan);
        Assert.DoesNotContain("Seq Scan on customer_changes", plan);
        Assert.Contains("ix_orders_normalized_phone_created_at_id", plan);
    }

    private async Task<string> ExplainAsync(string sql, Dictionary<string, object> parameters)
    {
        await using var connection = new NpgsqlConnection(TestDatabase.ConnectionStringFor(_database));
        await connection.OpenAsync();
        await using var explain = new NpgsqlCommand("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF) " + sql, connection);
        foreach (var (name, value) in parameters)
            explain.Parameters.AddWithValue(name, value);
        var lines = new List<string>();
        await using var reader = await explain.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            lines.Add(reader.GetString(0));
        return string.Join("\n", lines);
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(TestDatabase.ConnectionStringFor(_database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(TestDatabase.ConnectionStringFor(_database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync();
    }
}
