using Crm.Jobs.Customers;
using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;

namespace Crm.Tests.Sync;

// The pending scope reads every request in the database, so it has a database of its own.
public class PendingSyncTests(SyncDatabase db) : IClassFixture<SyncDatabase>
{
    private DateTime Now => db.Now;

    [Fact]
    public async Task PendingRunSyncsExactlyThePhonesWithUnseenRequests()
    {
        var (dirty, seen, unrequested, dirtyExisting) =
            (TestPhones.New(), TestPhones.New(), TestPhones.New(), TestPhones.New());
        await db.AddOrdersAsync(SyncDatabase.OrderOf(seen, 10m, Now.AddDays(-2)));
        await db.RecordSyncRequestAsync(seen);
        await db.RunAsync(SyncMode.Auto, SyncScope.Of(seen));
        Assert.Equal((1L, 1L), await db.SyncRequestAsync(seen));
        await db.AddCustomerAsync(new Customer { Name = "Есть", Phone = dirtyExisting });
        // Orders written around the scheduler: no request, so no pending sync may pick them up.
        await db.AddOrdersAsync(
            SyncDatabase.OrderOf(seen, 20m, Now.AddDays(-1)),
            SyncDatabase.OrderOf(unrequested, 30m, Now.AddDays(-1)),
            SyncDatabase.OrderOf(dirty, 40m, Now.AddDays(-1)),
            SyncDatabase.OrderOf(dirtyExisting, 50m, Now.AddDays(-1)));
        await db.RecordSyncRequestAsync(dirty, dirtyExisting);
        await db.RecordSyncRequestAsync(dirty);

        var counts = await db.RunAsync(SyncMode.Auto, new SyncScope.Pending());

        Assert.Equal(new SyncCounts(1, 1, 0, 0, 0, 2, counts.DurationMs, counts.RunId), counts);
        Assert.Equal(40m, (await db.GetCustomerAsync(dirty)).TotalSpent);
        Assert.Equal(50m, (await db.GetCustomerAsync(dirtyExisting)).TotalSpent);
        Assert.Equal(10m, (await db.GetCustomerAsync(seen)).TotalSpent);
        Assert.Null(await db.FindCustomerAsync(unrequested));
        Assert.Equal((2L, 2L), await db.SyncRequestAsync(dirty));
        Assert.Equal((1L, 1L), await db.SyncRequestAsync(dirtyExisting));

        var again = await db.RunAsync(SyncMode.Auto, new SyncScope.Pending());

        Assert.Equal(new SyncCounts(0, 0, 0, 0, 0, 0, again.DurationMs, again.RunId), again);
    }
}
