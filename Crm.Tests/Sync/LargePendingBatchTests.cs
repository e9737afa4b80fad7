using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;

namespace Crm.Tests.Sync;

// Past 5 000 phones a pending batch is planned as bulk work: temp tables, hash joins, and
// when the batch is most of the customers (an import of new phones), one pass over all
// orders in phone order, as a full sync reads them.
public class LargePendingBatchTests(SyncDatabase db) : IClassFixture<SyncDatabase>
{
    [Fact]
    public async Task AnImportSizedBatchIsExactAndIsolatesItsPoisonedPhone()
    {
        var phones = Enumerable.Range(0, 6_000).Select(_ => TestPhones.New()).ToArray();
        await db.AddOrdersInBulkAsync(phones, 2);
        await Poison.AddOrderAsync(db);
        await db.RecordSyncRequestAsync([.. phones, Poison.Phone]);

        var counts = await db.RunAsync(SyncMode.Auto, new SyncScope.Pending());

        Assert.Equal((6_000, 1, 6_000), (counts.CreatedCount, counts.ErrorCount, counts.TotalCustomers));
        Assert.Empty(await CustomerAudit.WrongCustomersAsync(db.ConnectionString, db.Now, Poison.Phone));
        Assert.Equal(1, (await db.SyncRequestAsync(phones[^1]))!.Value.SyncedVersion);
        Assert.Equal(0, (await db.SyncRequestAsync(Poison.Phone))!.Value.SyncedVersion);

        // A second batch of the same size over the 6 000 customers: changed statistics for all.
        await db.AddOrdersInBulkAsync(phones, 1);
        await db.RecordSyncRequestAsync(phones);
        var again = await db.RunAsync(SyncMode.Auto, new SyncScope.Pending());
        Assert.Equal((0, 6_000, 0), (again.CreatedCount, again.UpdatedCount, again.ErrorCount));
        Assert.Empty(await CustomerAudit.WrongCustomersAsync(db.ConnectionString, db.Now, Poison.Phone));
    }
}
