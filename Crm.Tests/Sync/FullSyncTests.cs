using Crm.Jobs.Customers;
using Crm.Jobs.Orders;
using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;

namespace Crm.Tests.Sync;

// Full-scope runs. Tests of this class share a database, so each one first settles whatever
// earlier tests left behind with a full run, and then asserts on the difference it makes.
public class FullSyncTests(SyncDatabase db) : IClassFixture<SyncDatabase>
{
    private DateTime Now => db.Now;

    private Task<SyncCounts> SettleAsync() => db.RunAsync(SyncMode.Default, new SyncScope.All());

    [Fact]
    public async Task OrdersWithoutAUsablePhoneAreSkippedAndCountedWithoutAbortingTheSync()
    {
        var before = await SettleAsync();
        var phone = TestPhones.New();
        await db.AddOrdersAsync(
            SyncDatabase.OrderOf(null, 10m, Now.AddDays(-2), name: "Без телефона"),
            new Order
            {
                CustomerName = "Кривой телефон", CustomerPhone = "не телефон", NormalizedPhone = null,
                TotalAmount = 20m, Status = OrderStatus.Completed, CreatedAt = Now.AddDays(-1), UpdatedAt = Now.AddDays(-1),
            },
            SyncDatabase.OrderOf(phone, 30m, Now.AddDays(-1), name: "С телефоном"));

        var counts = await db.RunAsync(SyncMode.Default, new SyncScope.All());

        Assert.Equal(before.SkippedCount + 2, counts.SkippedCount);
        Assert.Equal((1, 0, 0), (counts.CreatedCount, counts.UpdatedCount, counts.ErrorCount));
        Assert.Equal(before.TotalCustomers + 1, counts.TotalCustomers);
        Assert.Equal("С телефоном", (await db.GetCustomerAsync(phone)).Name);
    }

    [Theory]
    [InlineData(SyncMode.Auto)]
    [InlineData(SyncMode.Default)]
    [InlineData(SyncMode.Force)]
    [InlineData(SyncMode.StatsOnly)]
    public async Task SecondFullRunReportsEverythingUnchangedAndWritesNoRow(SyncMode mode)
    {
        await SettleAsync();
        var (fresh, stale, orderless) = (TestPhones.New(), TestPhones.New(), TestPhones.New());
        await db.AddCustomerAsync(new Customer { Name = "Устаревший", Phone = stale, TotalOrders = 99, Category = CustomerCategory.Vip });
        await db.AddCustomerAsync(new Customer { Name = "Без заказов", Phone = orderless, TotalSpent = 5m });
        await db.AddOrdersAsync(
            SyncDatabase.OrderOf(fresh, 10m, Now.AddDays(-1), name: "Новый", email: "new@example.com"),
            SyncDatabase.OrderOf(stale, 20.01m, Now.AddDays(-200), name: "Другое Имя", city: "Казань"),
            SyncDatabase.OrderOf(stale, 15m, Now.AddDays(-2), OrderStatus.Cancelled, address: "ул. Новая, 2"),
            SyncDatabase.OrderOf(null, 1m, Now.AddDays(-1)));
        var first = await db.RunAsync(mode, new SyncScope.All());
        Assert.True(first.UpdatedCount >= 2, $"The first run should have updated both arranged customers: {first}");
        var rowsBefore = await db.CustomerRowVersionsAsync();

        var second = await db.RunAsync(mode, new SyncScope.All());

        Assert.Equal(new SyncCounts(0, 0, first.TotalCustomers, first.SkippedCount, 0, first.TotalCustomers, second.DurationMs, second.RunId), second);
        Assert.Equal(rowsBefore.Count, second.TotalCustomers);
        Assert.Equal(rowsBefore, await db.CustomerRowVersionsAsync());
    }

    [Fact]
    public async Task CustomerWithoutOrdersGetsZeroStatisticsAndIsNewAfterAFullSync()
    {
        await SettleAsync();
        var phone = TestPhones.New();
        await db.AddCustomerAsync(new Customer
        {
            Name = "Из API", Phone = phone, Email = "api@example.com", TotalOrders = 12, TotalSpent = 150_000m,
            AverageOrder = 12_500m, LastOrderDate = Now.AddDays(-1), Category = CustomerCategory.Vip,
        });

        var counts = await db.RunAsync(SyncMode.Default, new SyncScope.All());

        Assert.Equal((0, 1), (counts.CreatedCount, counts.UpdatedCount));
        var customer = await db.GetCustomerAsync(phone);
        Assert.Equal((0, 0m, 0m, (DateTime?)null, CustomerCategory.New),
            (customer.TotalOrders, customer.TotalSpent, customer.AverageOrder, customer.LastOrderDate, customer.Category));
        Assert.Equal(("Из API", "api@example.com"), (customer.Name, customer.Email));
    }

    [Fact]
    public async Task FullRunCountsCreatedUpdatedAndUnchangedExactly()
    {
        var (new1, new2, changed, unchanged) =
            (TestPhones.New(), TestPhones.New(), TestPhones.New(), TestPhones.New());
        await db.AddOrdersAsync(
            SyncDatabase.OrderOf(changed, 10m, Now.AddDays(-3)),
            SyncDatabase.OrderOf(unchanged, 20m, Now.AddDays(-3)));
        var settled = await SettleAsync();
        await db.AddOrdersAsync(
            SyncDatabase.OrderOf(changed, 30m, Now.AddDays(-1)),
            SyncDatabase.OrderOf(new1, 40m, Now.AddDays(-1)),
            SyncDatabase.OrderOf(new2, 50m, Now.AddDays(-1), OrderStatus.Cancelled));

        var counts = await db.RunAsync(SyncMode.Default, new SyncScope.All());

        Assert.Equal(settled.TotalCustomers + 2, counts.TotalCustomers);
        Assert.Equal(
            new SyncCounts(2, 1, counts.TotalCustomers - 3, settled.SkippedCount, 0, counts.TotalCustomers, counts.DurationMs, counts.RunId),
            counts);
        Assert.Equal(20m, (await db.GetCustomerAsync(unchanged)).TotalSpent);
    }

    [Theory]
    [InlineData(SyncMode.Auto, "auto")]
    [InlineData(SyncMode.Default, "default")]
    [InlineData(SyncMode.Force, "force")]
    [InlineData(SyncMode.StatsOnly, "statsOnly")]
    public async Task EveryRunWritesASucceededSyncRunRowWithItsCounts(SyncMode mode, string storedMode)
    {
        await SettleAsync();
        var phone = TestPhones.New();
        await db.AddOrdersAsync(SyncDatabase.OrderOf(phone, 10m, Now.AddDays(-1)));
        var jobId = $"job-{Guid.NewGuid():N}";

        var counts = await db.RunAsync(mode, new SyncScope.All(), jobId);

        var run = await db.SyncRunAsync(jobId);
        Assert.Equal(
            new SyncDatabase.StoredRun(jobId, storedMode, "succeeded", Now, Now, counts.CreatedCount, counts.UpdatedCount,
                counts.UnchangedCount, counts.SkippedCount, 0, counts.TotalCustomers, counts.DurationMs, null),
            run);
        Assert.True(run.DurationMs >= 0);
        Assert.Equal(mode == SyncMode.StatsOnly ? 0 : 1, run.Created);
    }

    [Fact]
    public async Task ScopedRunWritesASyncRunRowToo()
    {
        var phone = TestPhones.New();
        await db.AddOrdersAsync(SyncDatabase.OrderOf(phone, 10m, Now.AddDays(-1)));
        var jobId = $"job-{Guid.NewGuid():N}";

        await db.RunAsync(SyncMode.Auto, SyncScope.Of(phone), jobId);

        var run = await db.SyncRunAsync(jobId);
        Assert.Equal(("auto", "succeeded", 1, 0, 0, 1), (run.Mode, run.Status, run.Created, run.Updated, run.Unchanged, run.Total));
        Assert.NotNull(run.FinishedAt);
    }
}
