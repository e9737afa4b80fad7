using Crm.Jobs.Ledger;
using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;
using Crm.Tests.Sync;

namespace Crm.Tests.Ledger;

// A dry run runs the real run's statements and rolls back: it reports what the real run
// then does, and writes nothing.
public class DryRunTests(SyncDatabase db) : IClassFixture<SyncDatabase>
{
    [Fact]
    public async Task AForceSyncsLedgerEqualsItsDryRunAndTheDryRunWritesNothing()
    {
        var phones = Enumerable.Range(0, 120).Select(_ => TestPhones.New()).ToList();
        await db.AddOrdersInBulkAsync(phones, 2);
        await db.RunAsync(SyncMode.Default, new SyncScope.All());

        // A newer order with other contact data for 30 customers, a bigger history for 20 more.
        var moved = phones.Take(30).ToList();
        var grown = phones.Skip(30).Take(20).ToList();
        await db.ExecuteAsync($"""
            INSERT INTO orders (customer_name, customer_phone, normalized_phone, customer_email, delivery_city,
                                delivery_address, total_amount, status, created_at, updated_at)
            SELECT 'Новое Имя ' || p, p, p, 'new-' || substr(p, 2) || '@example.com', 'Казань', '', 5, 'cancelled',
                   '{db.Now:O}'::timestamptz, '{db.Now:O}'::timestamptz
            FROM unnest(ARRAY[{string.Join(", ", moved.Select(p => $"'{p}'"))}]::varchar[]) AS p;
            INSERT INTO orders (customer_name, customer_phone, normalized_phone, customer_email, delivery_city,
                                delivery_address, total_amount, status, created_at, updated_at)
            SELECT '', p, p, '', '', '', 200000, 'completed',
                   '{db.Now:O}'::timestamptz - interval '2 hours', '{db.Now:O}'::timestamptz
            FROM unnest(ARRAY[{string.Join(", ", grown.Select(p => $"'{p}'"))}]::varchar[]) AS p;
            """);
        // Seven phones a chunk: the dry run rolls back some twenty transactions.
        var engine = db.CreateEngine(new SyncOptions { FullSyncChunkSize = 7 });
        var customersBefore = await db.CustomerRowVersionsAsync();
        var ledgerBefore = await CountAsync("SELECT count(*) FROM customer_changes");

        var dry = await engine.DryRunAsync(SyncMode.Force, "dry-job", CancellationToken.None);

        Assert.Equal(customersBefore, await db.CustomerRowVersionsAsync());
        Assert.Equal(ledgerBefore, await CountAsync("SELECT count(*) FROM customer_changes"));
        Assert.Equal(1, await CountAsync($"SELECT count(*) FROM sync_runs WHERE id = {dry.RunId} AND dry_run AND status = 'succeeded'"));
        Assert.Equal(50, dry.UpdatedCount);
        // Name, email and city of the moved customers; statistics (and for spenders the category) of the grown ones.
        Assert.Equal(30, dry.Changes["name"]);
        Assert.Equal(30, dry.Changes["email"]);
        Assert.Equal(30, dry.Changes["city"]);
        Assert.Equal(20, dry.Changes[CustomerChange.Statistics]);
        Assert.Equal(20, dry.Changes[CustomerChange.Category]);
        Assert.Equal(Math.Min(SyncEngine.DryRunSampleSize, dry.Changes.Values.Sum()), dry.Sample.Count);
        var changedIds = new List<long>();
        foreach (var phone in moved.Concat(grown))
            changedIds.Add((await db.GetCustomerAsync(phone)).Id);
        Assert.All(dry.Sample, change => Assert.Contains(change.CustomerId, changedIds));
        // A personal field's change shows no values (the ledger has them); statistics and category do.
        var emailChange = dry.Sample.First(c => c.Field == "email");
        Assert.Equal((null, null), (emailChange.From, emailChange.To));
        var statisticsChange = dry.Sample.First(c => c.Field == CustomerChange.Statistics);
        Assert.NotNull(statisticsChange.From);
        Assert.NotNull(statisticsChange.To);

        var real = await engine.RunAsync(SyncMode.Force, new SyncScope.All(), "real-job", CancellationToken.None);

        Assert.Equal(
            (dry.CreatedCount, dry.UpdatedCount, dry.UnchangedCount, dry.SkippedCount, dry.ErrorCount, dry.TotalCustomers),
            (real.CreatedCount, real.UpdatedCount, real.UnchangedCount, real.SkippedCount, real.ErrorCount, real.TotalCustomers));
        var realRun = await CountAsync("SELECT id FROM sync_runs WHERE job_id = 'real-job'");
        await using var connection = await db.DataSource.OpenConnectionAsync();
        var ledger = await ChangeLedger.CountRunChangesAsync(connection, null, realRun, CancellationToken.None);
        Assert.Equal(dry.Changes.OrderBy(c => c.Key), ledger.OrderBy(c => c.Key));
        // The run row keeps the same counts per field.
        Assert.Equal(30, await CountAsync($"SELECT (changes->>'email')::bigint FROM sync_runs WHERE id = {realRun}"));
    }

    [Fact]
    public async Task ADryRunOfTheFirstSyncCreatesNobodyAndKeepsTheIndexes()
    {
        var empty = new SyncDatabase();
        await empty.InitializeAsync();
        try
        {
            var phones = Enumerable.Range(0, 40).Select(_ => TestPhones.New()).ToList();
            await empty.AddOrdersInBulkAsync(phones, 3);
            var indexes = await CountAsync(empty, "SELECT count(*) FROM pg_indexes WHERE tablename = 'customers'");

            var dry = await empty.Engine.DryRunAsync(SyncMode.Default, null, CancellationToken.None);

            Assert.Equal(40, dry.CreatedCount);
            Assert.Equal(40, dry.Changes[CustomerChange.Created]);
            Assert.Equal(0, await CountAsync(empty, "SELECT count(*) FROM customers"));
            Assert.Equal(0, await CountAsync(empty, "SELECT count(*) FROM customer_changes"));
            Assert.Equal(indexes, await CountAsync(empty, "SELECT count(*) FROM pg_indexes WHERE tablename = 'customers'"));
            Assert.Equal(0, await CountAsync(empty, "SELECT count(*) FROM deferred_indexes"));

            var real = await empty.RunAsync(SyncMode.Default, new SyncScope.All());
            Assert.Equal(40, real.CreatedCount);
            Assert.Equal(40, await CountAsync(empty, "SELECT count(*) FROM customer_changes WHERE field = 'created' AND source = 'sync:default'"));
        }
        finally
        {
            await empty.DisposeAsync();
        }
    }

    private Task<long> CountAsync(string sql) => CountAsync(db, sql);

    private static async Task<long> CountAsync(SyncDatabase database, string sql)
    {
        await using var command = database.DataSource.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }
}
