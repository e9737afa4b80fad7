using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;

namespace Crm.Tests.Sync;

// Per-customer work costs what that customer's rows cost, not what the table costs: a
// one-phone statistics run and a few-phone pending run over 200 000 orders read a handful
// of heap blocks and scan no table whole. Read from PostgreSQL's own counters (a sequential
// scan of orders or customers, the heap blocks each run touched), not from timings.
public class SmallScopePlanTests(LargeOrdersTable table) : IClassFixture<LargeOrdersTable>
{
    private readonly SyncDatabase db = table.Db;

    [Fact]
    public async Task OneCustomersStatisticsReadOnlyThatCustomersRows()
    {
        var phone = table.Phones[LargeOrdersTable.PhoneCount / 2];
        await db.AddOrdersAsync(SyncDatabase.OrderOf(phone, 1m, db.Now));

        var (counts, touched) = await MeasureAsync(engine => engine.RunAsync(SyncMode.StatsOnly, SyncScope.Of(phone), "stats", CancellationToken.None));

        Assert.Equal(1, counts.UpdatedCount);
        AssertSmall(touched);
    }

    [Fact]
    public async Task APendingBatchOfAFewCustomersReadsOnlyTheirRows()
    {
        var phones = table.Phones.Take(3).ToArray();
        await db.AddOrdersAsync(phones.Select(p => SyncDatabase.OrderOf(p, 2m, db.Now)).ToArray());
        await db.RecordSyncRequestAsync(phones);

        var (counts, touched) = await MeasureAsync(engine => engine.RunAsync(SyncMode.Auto, new SyncScope.Pending(), "pending", CancellationToken.None));

        Assert.Equal(3, counts.UpdatedCount);
        AssertSmall(touched);
    }

    // A customer with three phones: its run reads the orders of each phone by the phone index,
    // whichever phone asked, and counts them all.
    [Fact]
    public async Task ACustomerWithThreePhonesReadsOnlyItsRowsWhicheverPhoneAsks()
    {
        var phone = table.Phones[LargeOrdersTable.PhoneCount / 3];
        string[] others = [TestPhones.New(), TestPhones.New()];
        await db.AddOrdersAsync(others.Select(p => SyncDatabase.OrderOf(p, 7m, db.Now)).ToArray());
        await db.ExecuteAsync($"""
            INSERT INTO customer_phones (phone, customer_id)
            SELECT p, c.id FROM customers c, unnest(ARRAY['{others[0]}', '{others[1]}']) AS p WHERE c.phone = '{phone}'
            """);
        var before = await db.GetCustomerAsync(phone);

        var (counts, touched) = await MeasureAsync(engine => engine.RunAsync(SyncMode.StatsOnly, SyncScope.Of(others[1]), "stats", CancellationToken.None));

        Assert.Equal(1, counts.UpdatedCount);
        AssertSmall(touched);
        var after = await db.GetCustomerAsync(phone);
        Assert.Equal(before.TotalSpent + 14m, after.TotalSpent);
        Assert.Equal(before.TotalOrders + 2, after.TotalOrders);
        Assert.Null(await db.FindCustomerAsync(others[0]));

        (counts, touched) = await MeasureAsync(engine => engine.RunAsync(SyncMode.StatsOnly, SyncScope.Of(phone), "stats", CancellationToken.None));
        Assert.Equal(0, counts.UpdatedCount);
        Assert.Equal(1, counts.UnchangedCount);
        AssertSmall(touched);
    }

    private static void AssertSmall(Dictionary<string, (long SeqScans, long HeapBlocks)> touched)
    {
        // A whole-table read would be ~2 000 heap blocks of orders; the customers' own orders
        // are a few blocks each. The ledger (40 000 'created' rows from the first sync) is
        // written and counted per run, never scanned.
        foreach (var table in new[] { "orders", "customers", "customer_changes" })
        {
            Assert.True(touched[table].SeqScans == 0, $"{table} scanned whole {touched[table].SeqScans} times");
            Assert.True(touched[table].HeapBlocks < 100, $"{table} heap blocks: {touched[table].HeapBlocks}");
        }
    }

    // Runs the engine on connections of its own and returns what it did to orders, customers
    // and the ledger.
    private async Task<(SyncCounts, Dictionary<string, (long SeqScans, long HeapBlocks)>)> MeasureAsync(
        Func<SyncEngine, Task<SyncCounts>> run)
    {
        db.DataSource.Clear();
        return await TableTouches.MeasureAsync(db.ConnectionString, ["orders", "customers", "customer_changes"],
            dataSource => run(db.CreateEngine(dataSource: dataSource)));
    }
}
