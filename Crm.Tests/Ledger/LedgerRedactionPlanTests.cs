using Crm.Jobs.Data;
using Crm.Jobs.Ledger;
using Crm.Tests.Infrastructure;
using Npgsql;

namespace Crm.Tests.Ledger;

// Once the ledger's old personal values are redacted, a night's redaction reads only the day
// that came of age, through the partial index, never the ledger: over 200 000 ledger rows of
// 400 days, read from PostgreSQL's own plan (EXPLAIN ANALYZE), not from timings.
public class LedgerRedactionPlanTests : IAsyncLifetime
{
    private string _database = "";

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        // 500 rows a day, the ten fields in turn: eight of them personal.
        await ExecuteAsync("""
            INSERT INTO customer_changes (customer_id, field, old_value, new_value, changed_at, source)
            SELECT i % 20000,
                   (ARRAY['created', 'deleted', 'name', 'phone', 'email', 'city', 'address', 'notes', 'category', 'statistics'])[1 + i % 10],
                   to_jsonb('old ' || i), to_jsonb('new ' || i), now() - interval '400 days' + i * interval '400 days' / 200000, 'sql'
            FROM generate_series(1, 200000) AS i;
            """);
        // Yesterday's night: everything older than 91 days redacted.
        await using var dataSource = NpgsqlDataSource.Create(TestDatabase.ConnectionStringFor(_database));
        await CrmDatabase.InSlicesAsync(dataSource, LedgerJobs.RedactPersonalValuesSql, DateTime.UtcNow.AddDays(-91), 50_000, CancellationToken.None);
        await ExecuteAsync("VACUUM ANALYZE customer_changes");
    }

    public Task DisposeAsync() => TestDatabase.DropAsync(_database);

    [Fact]
    public async Task TheNextNightReadsOnlyTheDayThatCameOfAgeThroughThePartialIndex()
    {
        var plan = await ExplainAsync(LedgerJobs.RedactPersonalValuesSql, DateTime.UtcNow.AddDays(-90), 50_000);

        Assert.DoesNotContain("Seq Scan on customer_changes", plan);
        Assert.True(plan.Contains("Index Scan using ix_customer_changes_personal_values"), plan);
        // One day: 500 rows, 400 of them personal (give or take the seconds between the two cutoffs).
        var found = System.Text.RegularExpressions.Regex.Match(plan, @"Limit \(actual rows=(\d+)").Groups[1].Value;
        Assert.InRange(int.Parse(found), 395, 405);
    }

    private Task<string> ExplainAsync(string sql, DateTime cutoff, int slice) =>
        Plans.ExplainAnalyzeAsync(TestDatabase.ConnectionStringFor(_database), sql,
            new Dictionary<string, object> { ["cutoff"] = cutoff, ["slice"] = slice });

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(TestDatabase.ConnectionStringFor(_database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync();
    }
}
