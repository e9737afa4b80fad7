using Crm.Jobs.Customers;
using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;

namespace Crm.Tests.Sync;

// The recalculation job moves the clock, so it has a database (and a clock) of its own.
public class CategoryRecalculationTests(SyncDatabase db) : IClassFixture<SyncDatabase>
{
    [Fact]
    public async Task RecalculationTurnsAVipInactiveOnceTimePassesAndCountsIt()
    {
        var start = db.Now;
        var (vip, regular) = (TestPhones.New(), TestPhones.New());
        await db.AddCompletedOrdersAsync(vip, 1, 150_000m, start.AddDays(-179));
        await db.AddCompletedOrdersAsync(regular, 3, 100m, start.AddDays(-1));
        await db.RunAsync(SyncMode.Default, new SyncScope.All());
        Assert.Equal(CustomerCategory.Vip, (await db.GetCustomerAsync(vip)).Category);

        db.Clock.Advance(TimeSpan.FromDays(2));
        var result = await db.Recalculation.RunAsync(CancellationToken.None);

        Assert.Equal((1, 2), (result.ChangedCount, result.TotalCustomers));
        var lapsed = await db.GetCustomerAsync(vip);
        Assert.Equal(CustomerCategory.Inactive, lapsed.Category);
        Assert.Equal(db.Now, lapsed.UpdatedAt);
        // Only the category is recomputed: the statistics stay as the sync left them.
        Assert.Equal((1, 150_000m, start.AddDays(-179)), (lapsed.TotalOrders, lapsed.TotalSpent, lapsed.LastOrderDate));
        var kept = await db.GetCustomerAsync(regular);
        Assert.Equal((CustomerCategory.Regular, start), (kept.Category, kept.UpdatedAt));

        var again = await db.Recalculation.RunAsync(CancellationToken.None);

        Assert.Equal((0, 2), (again.ChangedCount, again.TotalCustomers));
        // The sync applies the same rule at the same instant, so it has nothing left to change.
        var sync = await db.RunAsync(SyncMode.Default, new SyncScope.All());
        Assert.Equal((0, 0, 2), (sync.CreatedCount, sync.UpdatedCount, sync.UnchangedCount));
    }
}
