using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;

namespace Crm.Tests.Sync;

// A customer with several phones is one customer to every kind of run: its statistics count
// the orders of all its phones, and no run creates a customer for one of its other phones —
// full syncs whole or in chunks (its phones in different chunks), every mode, per-customer
// runs by any of its phones, and pending batches small and large.
public class SeveralPhonesSyncTests(SyncDatabase db) : IClassFixture<SyncDatabase>
{
    private async Task<(string Primary, string[] Others)> CustomerWithThreePhonesAsync()
    {
        // The primary phone sorts first, the other two last and in the middle: a chunked full
        // sync sees them in different chunks.
        var phones = Enumerable.Range(0, 40).Select(_ => TestPhones.New()).Order(StringComparer.Ordinal).ToList();
        await db.AddOrdersInBulkAsync(phones, 2);
        await db.RunAsync(SyncMode.Default, new SyncScope.All());
        var others = new[] { TestPhones.New(), TestPhones.New() };
        await db.AddOrdersAsync(
            SyncDatabase.OrderOf(others[0], 30m, db.Now.AddDays(-1), name: "Другой номер"),
            SyncDatabase.OrderOf(others[1], 40m, db.Now.AddDays(-2)),
            SyncDatabase.OrderOf(others[1], 500m, db.Now.AddDays(-3), Crm.Jobs.Orders.OrderStatus.Cancelled));
        await db.ExecuteAsync($"""
            INSERT INTO customer_phones (phone, customer_id)
            SELECT p, c.id FROM customers c, unnest(ARRAY['{others[0]}', '{others[1]}']) AS p WHERE c.phone = '{phones[0]}'
            """);
        return (phones[0], others);
    }

    private async Task AssertOneCustomerAsync(string primary, string[] others, string run)
    {
        var expected = await db.ScalarAsync<decimal>($"""
            SELECT sum(total_amount) FROM orders
            WHERE status = 'completed' AND normalized_phone IN ('{primary}', '{others[0]}', '{others[1]}')
            """);
        var customer = await db.GetCustomerAsync(primary);
        Assert.True(expected == customer.TotalSpent, $"{run}: {customer.TotalSpent}, expected {expected}");
        Assert.Equal(4, customer.TotalOrders);
        foreach (var other in others)
            Assert.True(await db.FindCustomerAsync(other) is null, $"{run} made a customer of {other}");
    }

    [Fact]
    public async Task EveryKindOfRunCountsEveryPhoneAndMakesNoCustomerOfAnOtherPhone()
    {
        var (primary, others) = await CustomerWithThreePhonesAsync();

        await db.RunAsync(SyncMode.StatsOnly, SyncScope.Of(others[1]));
        await AssertOneCustomerAsync(primary, others, "a run by another phone");
        await db.RecordSyncRequestAsync(others[0]);
        await db.RunAsync(SyncMode.Auto, new SyncScope.Pending());
        await AssertOneCustomerAsync(primary, others, "a small pending batch");

        var chunked = db.CreateEngine(new SyncOptions { FullSyncChunkSize = 7 });
        foreach (var mode in new[] { SyncMode.Auto, SyncMode.Default, SyncMode.Force, SyncMode.StatsOnly })
        {
            await db.ExecuteAsync($"UPDATE customers SET total_spent = 0, total_orders = 0 WHERE phone = '{primary}'");
            await chunked.RunAsync(mode, new SyncScope.All(), null, CancellationToken.None);
            await AssertOneCustomerAsync(primary, others, $"a chunked full sync ({mode})");
            await db.ExecuteAsync($"UPDATE customers SET total_spent = 0, total_orders = 0 WHERE phone = '{primary}'");
            await db.RunAsync(mode, new SyncScope.All());
            await AssertOneCustomerAsync(primary, others, $"a full sync ({mode})");
        }
    }

    [Fact]
    public async Task ALargePendingBatchCountsEveryPhone()
    {
        var (primary, others) = await CustomerWithThreePhonesAsync();
        await db.ExecuteAsync($"UPDATE customers SET total_spent = 0, total_orders = 0 WHERE phone = '{primary}'");
        // More requests than a small scope holds: the batch is the sync_scope table.
        var many = Enumerable.Range(0, ScopedSync.LargeScope).Select(_ => TestPhones.New()).ToList();
        await db.AddOrdersInBulkAsync(many, 1);
        await db.RecordSyncRequestAsync([.. many, others[1]]);

        await db.RunAsync(SyncMode.Auto, new SyncScope.Pending());

        await AssertOneCustomerAsync(primary, others, "a large pending batch");
    }

    [Fact]
    public async Task ItsLatestOrderOnAnyPhoneGivesAnEmptyFieldItsValue()
    {
        var (primary, others) = await CustomerWithThreePhonesAsync();
        await db.ExecuteAsync($"UPDATE customers SET email = '' WHERE phone = '{primary}'");
        var latest = SyncDatabase.OrderOf(others[1], 10m, db.Now.AddMinutes(1), email: "latest@example.com");
        await db.AddOrdersAsync(latest);

        await db.RunAsync(SyncMode.Auto, SyncScope.Of(primary));

        Assert.Equal("latest@example.com", (await db.GetCustomerAsync(primary)).Email);
    }
}
