using Crm.Api.Dashboard;
using Crm.Tests.Infrastructure;
using Npgsql;

namespace Crm.Tests.Dashboard;

// The customers-per-category picture reads the last 90 days' category, created and deleted rows
// of the ledger through their partial index, never the whole ledger (mostly statistics rows, one
// per order), and today's counts in one pass over customers. Over
// 40 000 customers and 300 000 ledger rows of 400 days, read from PostgreSQL's own plan
// (EXPLAIN ANALYZE), not from timings.
public class DashboardPicturesPlanTests : IAsyncLifetime
{
    private string _database = "";

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        await ExecuteAsync("""
            INSERT INTO customers (name, phone, category, created_at, updated_at)
            SELECT 'Клиент ' || i, '+7998' || lpad(i::text, 7, '0'), (ARRAY['new', 'regular', 'vip', 'inactive'])[1 + i % 4],
                   now() - interval '400 days', now() - interval '400 days'
            FROM generate_series(1, 40000) AS i;
            -- A statistics row for every order, a category change for one in fifty, over 400 days.
            INSERT INTO customer_changes (customer_id, field, old_value, new_value, changed_at, source)
            SELECT i % 40000 + 1, CASE WHEN i % 50 = 0 THEN 'category' ELSE 'statistics' END,
                   CASE WHEN i % 50 = 0 THEN to_jsonb('new'::text) ELSE '{"totalOrders": 1}' END,
                   CASE WHEN i % 50 = 0 THEN to_jsonb('regular'::text) ELSE '{"totalOrders": 2}' END,
                   now() - interval '400 days' + i * interval '400 days' / 300000, 'sync:auto'
            FROM generate_series(1, 300000) AS i;
            -- Some customers deleted (merged, erased: a few with their values redacted) lately.
            DELETE FROM customers WHERE id % 500 = 0;
            UPDATE customer_changes SET old_value = NULL, changed_at = now() - interval '10 days'
            WHERE field = 'deleted' AND customer_id % 1000 = 0;
            """);
        await ExecuteAsync("VACUUM ANALYZE customers");
        await ExecuteAsync("VACUUM ANALYZE customer_changes");
    }

    public Task DisposeAsync() => TestDatabase.DropAsync(_database);

    [Fact]
    public async Task TheCategoryMovesAreReadThroughTheirIndexForTheDaysShownOnly()
    {
        var starts = Enumerable.Range(1, 89).Select(i => DateTime.UtcNow.Date.AddDays(i - 89)).ToArray();

        var plan = await Plans.ExplainAnalyzeAsync(TestDatabase.ConnectionStringFor(_database), CategoryHistory.MovesSql,
            new Dictionary<string, object> { ["day_starts"] = starts, ["from"] = starts[0] });

        Assert.DoesNotContain("Seq Scan on customer_changes", plan);
        Assert.True(plan.Contains("ix_customer_changes_category_history"), plan);
        // 89 days of one row in fifty of 750 a day, and the deletes: not the 66 000 statistics rows.
        var read = System.Text.RegularExpressions.Regex.Match(plan, @"ix_customer_changes_category_history.*?\(actual rows=(\d+)",
            System.Text.RegularExpressions.RegexOptions.Singleline).Groups[1].Value;
        Assert.InRange(int.Parse(read), 1_000, 1_500);
    }

    // Today's counts are a count of every customer: one pass, whatever the number of categories
    // (a count per category planned for an unknown category read the table once per category).
    [Fact]
    public async Task TodaysCountsReadTheCustomersOnce()
    {
        var plan = await Plans.ExplainAnalyzeAsync(TestDatabase.ConnectionStringFor(_database), CategoryHistory.CountsSql,
            new Dictionary<string, object>());

        Assert.Matches(@"(Seq Scan on customers|Index Only Scan using \w+ on customers) \(actual rows=39920 loops=1\)", plan);
        Assert.DoesNotContain("customer_changes", plan);
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(TestDatabase.ConnectionStringFor(_database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync();
    }
}
