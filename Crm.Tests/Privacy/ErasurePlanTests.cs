using Crm.Jobs.Privacy;
using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Crm.Tests.Privacy;

// An erase costs what the person's rows cost, not what the tables cost: over 200 000 orders,
// 40 000 customers, their ledger and an outbox of 40 000 webhook events, just loaded and never
// analysed (as a user's tables are right after an import), it scans none of them whole.
public class ErasurePlanTests(ErasurePlanTests.Table table) : IClassFixture<ErasurePlanTests.Table>
{
    public sealed class Table : IAsyncLifetime
    {
        public SyncDatabase Db { get; } = new();
        public string[] Phones { get; } = Enumerable.Range(0, 40_000).Select(_ => TestPhones.New()).ToArray();

        public async Task InitializeAsync()
        {
            await Db.InitializeAsync();
            // No statistics, ever: autovacuum would analyse the tables while the test waits.
            await Db.ExecuteAsync("""
                ALTER TABLE orders SET (autovacuum_enabled = false);
                ALTER TABLE customers SET (autovacuum_enabled = false);
                ALTER TABLE customer_changes SET (autovacuum_enabled = false);
                ALTER TABLE webhook_events SET (autovacuum_enabled = false);
                INSERT INTO webhooks (url, events, enabled, secret, created_at, updated_at)
                VALUES ('https://receiver.example/hooks', ARRAY['*'], true, 'whsec_plan', now(), now());
                """);
            await Db.AddOrdersInBulkAsync(Phones, 5);
            await Db.RunAsync(SyncMode.Default, new SyncScope.All());
        }

        public Task DisposeAsync() => Db.DisposeAsync();
    }

    private static readonly string[] BigTables = ["orders", "customers", "customer_changes", "webhook_events"];

    [Fact]
    public async Task AnEraseReadsOnlyThePersonsRowsOfUnanalysedTables()
    {
        var db = table.Db;
        var phone = table.Phones[20_000];
        var erasureId = await db.ScalarAsync<long>(
            $"INSERT INTO erasures (requested_by, requested_at, phone) VALUES ('plan-test', now(), '{phone}') RETURNING id");
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM pg_stats WHERE tablename = 'orders'"));

        db.DataSource.Clear();
        var (result, touched) = await TableTouches.MeasureAsync(db.ConnectionString, BigTables, dataSource =>
            new ErasureJobs(dataSource, new PhoneHasher(TestKeys.PrivacyHashKey), db.Clock, new Crm.Jobs.Data.DatabaseOptions(), NullLogger<ErasureJobs>.Instance)
                .EraseAsync(erasureId, CancellationToken.None));

        Assert.Equal(1, result.Counts["customers"]);
        Assert.Equal(5, result.Counts["orders"]);
        // customer.created from the sync, and customer.deleted that the erase's own delete wrote.
        Assert.Equal(2, result.Counts["webhookEvents"]);
        foreach (var name in BigTables)
        {
            Assert.True(touched[name].SeqScans == 0, $"{name}: {touched[name].SeqScans} sequential scan(s)");
            Assert.True(touched[name].HeapBlocks < 100, $"{name} heap blocks: {touched[name].HeapBlocks}");
        }
    }
}
