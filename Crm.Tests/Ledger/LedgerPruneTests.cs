using Crm.Jobs.Data;
using Crm.Jobs.Ledger;
using Crm.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Crm.Tests.Ledger;

// prune-ledger's second half: the values of personal fields older than
// Crm:Ledger:PersonalValueRetentionDays (90) are nulled, every row's metadata and every other
// field's values stay. The API role runs no job server, so only the test prunes. Every test
// leaves nothing to redact behind it, so each can count what its own run redacted.
public class LedgerPruneTests(ApiRoleFactory factory) : IClassFixture<ApiRoleFactory>
{
    private const string Row = "customer_id, field, old_value::text, new_value::text, reason::text, changed_at, source, run_id";

    private async Task<LedgerPruneResult> PruneAsync()
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<LedgerJobs>().PruneAsync(CancellationToken.None);
    }

    private async Task<List<string>> RowsAsync(long customerId)
    {
        await using var dataSource = NpgsqlDataSource.Create(factory.ConnectionString);
        await using var command = dataSource.CreateCommand($"SELECT {Row} FROM customer_changes WHERE customer_id = @id ORDER BY id");
        command.Parameters.AddWithValue("id", customerId);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
            rows.Add(string.Join(" | ", Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "NULL" : reader.GetValue(i) is DateTime t ? t.ToString("O") : reader.GetValue(i).ToString())));
        return rows;
    }

    [Fact]
    public async Task OldPersonalValuesAreNulledAndTheRowsAndOtherFieldsStay()
    {
        var now = factory.Clock.GetUtcNow().UtcDateTime;
        var (old, recent) = (now.AddDays(-91), now.AddDays(-89));
        await factory.ExecuteAsync("""
            INSERT INTO customer_changes (customer_id, field, old_value, new_value, reason, changed_at, source, run_id)
            VALUES (-10, 'created', NULL, '{"phone": "+79990001122", "name": "Анна", "category": "new"}', NULL, @old, 'sync:auto', 7),
                   (-10, 'email', NULL, '"anna@example.com"', NULL, @old, 'sync:force', 7),
                   (-10, 'address', '"ул. Ленина, 1"', '"ул. Мира, 2"', NULL, @old, 'api:admin', NULL),
                   (-10, 'notes', '"звонить вечером"', NULL, NULL, @old, 'sql', NULL),
                   (-10, 'category', '"new"', '"vip"', '{"rule": "vipByOrders"}', @old, 'recalculate', NULL),
                   (-10, 'statistics', '{"totalOrders": 1}', '{"totalOrders": 2}', NULL, @old, 'sync:auto', 7),
                   (-10, 'city', '"Пермь"', '"Казань"', NULL, @recent, 'api:admin', NULL),
                   (-10, 'deleted', '{"phone": "+79990001122", "name": "Анна", "category": "vip"}', NULL, NULL, @recent, 'sql', NULL)
            """, ("old", old), ("recent", recent));
        var before = await RowsAsync(-10);

        Assert.Equal(new LedgerPruneResult(0, 4), await PruneAsync());

        var (o, r) = (old.ToString("O"), recent.ToString("O"));
        Assert.Equal(
        [
            $"-10 | created | NULL | NULL | NULL | {o} | sync:auto | 7",
            $"-10 | email | NULL | NULL | NULL | {o} | sync:force | 7",
            $"-10 | address | NULL | NULL | NULL | {o} | api:admin | NULL",
            $"-10 | notes | NULL | NULL | NULL | {o} | sql | NULL",
            before[4], // category: not personal
            before[5], // statistics: not personal
            before[6], // city, 89 days old
            before[7], // deleted, 89 days old
        ], await RowsAsync(-10));
    }

    [Fact]
    public async Task PruningTwiceRedactsNothingMore()
    {
        var old = factory.Clock.GetUtcNow().UtcDateTime.AddDays(-200);
        await factory.ExecuteAsync("""
            INSERT INTO customer_changes (customer_id, field, old_value, new_value, changed_at, source)
            VALUES (-11, 'phone', '"+79990001123"', '"+79990001124"', @old, 'sql'), (-11, 'name', '"Иван"', '"Пётр"', @old, 'sql')
            """, ("old", old));

        Assert.Equal(new LedgerPruneResult(0, 2), await PruneAsync());
        var redacted = await RowsAsync(-11);
        Assert.Equal(new LedgerPruneResult(0, 0), await PruneAsync());
        Assert.Equal(redacted, await RowsAsync(-11));
    }

    // Rows past the retention are deleted before the rest are redacted, in the same run.
    [Fact]
    public async Task OneRunDeletesWhatIsPastTheRetentionAndRedactsTheRest()
    {
        var now = factory.Clock.GetUtcNow().UtcDateTime;
        await factory.ExecuteAsync("""
            INSERT INTO customer_changes (customer_id, field, old_value, new_value, changed_at, source)
            VALUES (-12, 'email', '"a@example.com"', '"b@example.com"', @gone, 'sql'),
                   (-12, 'email', '"b@example.com"', '"c@example.com"', @old, 'sql')
            """, ("gone", now.AddDays(-401)), ("old", now.AddDays(-100)));

        Assert.Equal(new LedgerPruneResult(1, 1), await PruneAsync());
        Assert.Equal([$"-12 | email | NULL | NULL | NULL | {now.AddDays(-100):O} | sql | NULL"], await RowsAsync(-12));
    }

    // The statement and the partial index it reads write the personal fields out: both must
    // name exactly CustomerChange.PersonalFields, or the index no longer serves the statement.
    [Fact]
    public async Task TheStatementAndItsIndexNameExactlyThePersonalFields()
    {
        var list = "field IN (" + string.Join(", ", CustomerChange.PersonalFields.Select(f => $"'{f}'")) + ")";
        Assert.Contains(list, LedgerJobs.RedactPersonalValuesSql);

        await using var dataSource = NpgsqlDataSource.Create(factory.ConnectionString);
        await using var command = dataSource.CreateCommand(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_customer_changes_personal_values'");
        var definition = (string)(await command.ExecuteScalarAsync())!;
        var indexed = CustomerChange.Fields.Where(f => definition.Contains($"'{f}'::character varying")).ToList();
        Assert.Equal(CustomerChange.PersonalFields.Order(), indexed.Order());
    }

    // The job's statement changes at most a slice of rows per transaction and is run until
    // a slice comes back short: 50 rows in slices of 7 are 8 statements, all redacted.
    [Fact]
    public async Task RedactionGoesThroughMoreRowsThanASliceInSlices()
    {
        var now = factory.Clock.GetUtcNow().UtcDateTime;
        await factory.ExecuteAsync("""
            INSERT INTO customer_changes (customer_id, field, old_value, new_value, changed_at, source)
            SELECT -13, 'email', to_jsonb('old' || i || '@example.com'), to_jsonb('new' || i || '@example.com'), @old, 'sql'
            FROM generate_series(1, 50) AS i
            """, ("old", now.AddDays(-120)));
        await using var dataSource = NpgsqlDataSource.Create(factory.ConnectionString);

        var redacted = await CrmDatabase.InSlicesAsync(dataSource, LedgerJobs.RedactPersonalValuesSql, now.AddDays(-90), 7, CancellationToken.None);

        Assert.Equal(50, redacted);
        Assert.All(await RowsAsync(-13), row => Assert.StartsWith("-13 | email | NULL | NULL |", row));
        Assert.Equal(new LedgerPruneResult(0, 0), await PruneAsync());
    }
}
