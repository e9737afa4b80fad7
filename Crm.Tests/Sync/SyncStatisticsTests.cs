using Crm.Jobs.Customers;
using Crm.Jobs.Orders;
using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;

namespace Crm.Tests.Sync;

// Statistics: completed orders only. Runs are scoped to each test's own phones.
public class SyncStatisticsTests(SyncDatabase db) : IClassFixture<SyncDatabase>
{
    private DateTime Now => db.Now;

    [Fact]
    public async Task StatisticsCountCompletedOrdersOnly()
    {
        var phone = TestPhones.New();
        await db.AddOrdersAsync(
            SyncDatabase.OrderOf(phone, 100.00m, Now.AddDays(-10)),
            SyncDatabase.OrderOf(phone, 250.50m, Now.AddDays(-5)),
            // Newer than every completed order, and bigger: none of them may show in the statistics.
            SyncDatabase.OrderOf(phone, 9_000m, Now.AddDays(-1), OrderStatus.Cancelled),
            SyncDatabase.OrderOf(phone, 8_000m, Now.AddDays(-2), OrderStatus.Processing),
            SyncDatabase.OrderOf(phone, 7_000m, Now.AddDays(-3), OrderStatus.New));

        await db.RunAsync(SyncMode.Default, SyncScope.Of(phone));

        var customer = await db.GetCustomerAsync(phone);
        Assert.Equal(2, customer.TotalOrders);
        Assert.Equal(350.50m, customer.TotalSpent);
        Assert.Equal(175.25m, customer.AverageOrder);
        Assert.Equal(Now.AddDays(-5), customer.LastOrderDate);
        Assert.Equal(CustomerCategory.New, customer.Category);
    }

    [Theory]
    [InlineData("100.00 200.00 0.01", "300.01", "100.00")]
    [InlineData("10.00 10.01", "20.01", "10.01")] // 10.005: half rounds away from zero
    [InlineData("33.33 33.33 33.35", "100.01", "33.34")] // 33.3366…
    [InlineData("0.01 0.01 0.02", "0.04", "0.01")] // 0.0133…
    [InlineData("99999.99", "99999.99", "99999.99")]
    public async Task AverageOrderIsTheSumOverTheCountRoundedToTwoDecimals(string amounts, string spent, string average)
    {
        var phone = TestPhones.New();
        var values = amounts.Split(' ').Select(SyncDatabase.Dec).ToArray();
        await db.AddOrdersAsync(values.Select((a, i) => SyncDatabase.OrderOf(phone, a, Now.AddDays(-1 - i))).ToArray());

        await db.RunAsync(SyncMode.Default, SyncScope.Of(phone));

        var customer = await db.GetCustomerAsync(phone);
        Assert.Equal(values.Length, customer.TotalOrders);
        Assert.Equal(SyncDatabase.Dec(spent), customer.TotalSpent);
        Assert.Equal(SyncDatabase.Dec(average), customer.AverageOrder);
    }

    [Fact]
    public async Task LastOrderDateIsTheNewestCompletedOrdersCreatedAt()
    {
        var phone = TestPhones.New();
        // Inserted newest first, so neither the first nor the last row is the answer by accident.
        await db.AddOrdersAsync(
            SyncDatabase.OrderOf(phone, 1m, Now.AddDays(-30)),
            SyncDatabase.OrderOf(phone, 1m, Now.AddHours(-7).AddMinutes(-13)),
            SyncDatabase.OrderOf(phone, 1m, Now.AddDays(-60)));

        await db.RunAsync(SyncMode.Default, SyncScope.Of(phone));

        Assert.Equal(Now.AddHours(-7).AddMinutes(-13), (await db.GetCustomerAsync(phone)).LastOrderDate);
    }

    [Fact]
    public async Task CustomerWithoutCompletedOrdersHasZeroStatisticsAndIsNew()
    {
        var phone = TestPhones.New();
        // An old order too: "no completed orders" must win over "inactive".
        await db.AddOrdersAsync(
            SyncDatabase.OrderOf(phone, 500m, Now.AddDays(-300), OrderStatus.Cancelled),
            SyncDatabase.OrderOf(phone, 600m, Now.AddDays(-2), OrderStatus.Processing),
            SyncDatabase.OrderOf(phone, 700m, Now.AddDays(-1), OrderStatus.New));

        var counts = await db.RunAsync(SyncMode.Default, SyncScope.Of(phone));

        Assert.Equal(1, counts.CreatedCount);
        var customer = await db.GetCustomerAsync(phone);
        Assert.Equal(0, customer.TotalOrders);
        Assert.Equal(0m, customer.TotalSpent);
        Assert.Equal(0m, customer.AverageOrder);
        Assert.Null(customer.LastOrderDate);
        Assert.Equal(CustomerCategory.New, customer.Category);
    }

    [Fact]
    public async Task StatisticsFollowAnOrderThatBecomesCompleted()
    {
        var phone = TestPhones.New();
        var (first, pending) = (SyncDatabase.OrderOf(phone, 40m, Now.AddDays(-3)),
            SyncDatabase.OrderOf(phone, 60m, Now.AddDays(-1), OrderStatus.Processing));
        await db.AddOrdersAsync(first, pending);
        await db.RunAsync(SyncMode.Default, SyncScope.Of(phone));
        Assert.Equal(40m, (await db.GetCustomerAsync(phone)).TotalSpent);

        await db.ExecuteAsync($"UPDATE orders SET status = 'completed' WHERE id = {pending.Id}");
        var counts = await db.RunAsync(SyncMode.Default, SyncScope.Of(phone));

        Assert.Equal(1, counts.UpdatedCount);
        var customer = await db.GetCustomerAsync(phone);
        Assert.Equal(2, customer.TotalOrders);
        Assert.Equal(100m, customer.TotalSpent);
        Assert.Equal(50m, customer.AverageOrder);
        Assert.Equal(Now.AddDays(-1), customer.LastOrderDate);
    }

    [Fact]
    public async Task ScopedSyncResetsTheStatisticsOfACustomerWithoutOrders()
    {
        var phone = TestPhones.New();
        await db.AddCustomerAsync(new Customer
        {
            Name = "Из API", Phone = phone, TotalOrders = 7, TotalSpent = 1234.56m, AverageOrder = 176.37m,
            LastOrderDate = Now.AddDays(-3), Category = CustomerCategory.Vip,
        });

        var counts = await db.RunAsync(SyncMode.Default, SyncScope.Of(phone));

        Assert.Equal(new SyncCounts(0, 1, 0, 0, 0, 1, counts.DurationMs, counts.RunId), counts);
        var customer = await db.GetCustomerAsync(phone);
        Assert.Equal((0, 0m, 0m, (DateTime?)null, CustomerCategory.New),
            (customer.TotalOrders, customer.TotalSpent, customer.AverageOrder, customer.LastOrderDate, customer.Category));
        Assert.Equal("Из API", customer.Name);
    }
}
