using Crm.Jobs.Categories;
using Crm.Jobs.Customers;
using Crm.Jobs.Orders;
using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;

namespace Crm.Tests.Sync;

// The category rules of docs/SYNC-RULES.md through the sync engine, first rule that holds.
// Runs are scoped to each test's own phones; the clock never moves in this class.
public class CategoryRulesTests(SyncDatabase db) : IClassFixture<SyncDatabase>
{
    private DateTime Now => db.Now;

    private async Task<Customer> SyncAsync(string phone)
    {
        await db.RunAsync(SyncMode.Default, SyncScope.Of(phone));
        return await db.GetCustomerAsync(phone);
    }

    [Theory]
    [InlineData(1, CustomerCategory.New)]
    [InlineData(2, CustomerCategory.New)]
    [InlineData(3, CustomerCategory.Regular)]
    [InlineData(9, CustomerCategory.Regular)]
    [InlineData(10, CustomerCategory.Vip)]
    [InlineData(11, CustomerCategory.Vip)]
    public async Task CompletedOrderCountDecidesTheCategory(int completed, CustomerCategory expected)
    {
        var phone = TestPhones.New();
        await db.AddCompletedOrdersAsync(phone, completed, 100m, Now.AddDays(-1));

        var customer = await SyncAsync(phone);

        Assert.Equal((completed, expected), (customer.TotalOrders, customer.Category));
    }

    [Fact]
    public async Task OrdersThatAreNotCompletedDoNotCountTowardsTheCategory()
    {
        var phone = TestPhones.New();
        await db.AddCompletedOrdersAsync(phone, 2, 100m, Now.AddDays(-3));
        await db.AddOrdersAsync(
            SyncDatabase.OrderOf(phone, 200_000m, Now.AddDays(-1), OrderStatus.Cancelled),
            SyncDatabase.OrderOf(phone, 200_000m, Now.AddDays(-1), OrderStatus.Processing),
            SyncDatabase.OrderOf(phone, 200_000m, Now.AddDays(-1), OrderStatus.New));

        Assert.Equal(CustomerCategory.New, (await SyncAsync(phone)).Category);
    }

    [Fact]
    public async Task ThirdCompletedOrderMakesTheCustomerRegular()
    {
        var phone = TestPhones.New();
        await db.AddCompletedOrdersAsync(phone, 2, 100m, Now.AddDays(-2));
        Assert.Equal(CustomerCategory.New, (await SyncAsync(phone)).Category);

        await db.AddOrdersAsync(SyncDatabase.OrderOf(phone, 100m, Now.AddDays(-1)));

        Assert.Equal(CustomerCategory.Regular, (await SyncAsync(phone)).Category);
    }

    [Fact]
    public async Task TenthCompletedOrderMakesTheCustomerVip()
    {
        var phone = TestPhones.New();
        await db.AddCompletedOrdersAsync(phone, 9, 100m, Now.AddDays(-2));
        Assert.Equal(CustomerCategory.Regular, (await SyncAsync(phone)).Category);

        await db.AddOrdersAsync(SyncDatabase.OrderOf(phone, 100m, Now.AddDays(-1)));

        Assert.Equal(CustomerCategory.Vip, (await SyncAsync(phone)).Category);
    }

    [Theory]
    [InlineData("100000.00", CustomerCategory.Vip)]
    [InlineData("99999.99", CustomerCategory.New)]
    [InlineData("50000.00 50000.00", CustomerCategory.Vip)]
    [InlineData("33333.33 33333.33 33333.33", CustomerCategory.Regular)]
    [InlineData("33333.33 33333.33 33333.34", CustomerCategory.Vip)]
    public async Task TotalSpentOfAHundredThousandMakesTheCustomerVip(string amounts, CustomerCategory expected)
    {
        var phone = TestPhones.New();
        await db.AddOrdersAsync(amounts.Split(' ').Select(SyncDatabase.Dec)
            .Select((a, i) => SyncDatabase.OrderOf(phone, a, Now.AddDays(-1 - i))).ToArray());

        Assert.Equal(expected, (await SyncAsync(phone)).Category);
    }

    // "Older than 180 days" is strict: exactly 180 days ago is still active.
    [Theory]
    [InlineData(179, 0, CustomerCategory.Regular)]
    [InlineData(180, 0, CustomerCategory.Regular)]
    [InlineData(180, 1, CustomerCategory.Inactive)]
    [InlineData(181, 0, CustomerCategory.Inactive)]
    public async Task LastOrderOlderThan180DaysMakesTheCustomerInactive(int days, int seconds, CustomerCategory expected)
    {
        var phone = TestPhones.New();
        var lastOrder = Now.AddDays(-days).AddSeconds(-seconds);
        await db.AddCompletedOrdersAsync(phone, 3, 100m, lastOrder);

        var customer = await SyncAsync(phone);

        Assert.Equal((lastOrder, expected), (customer.LastOrderDate, customer.Category));
    }

    [Fact]
    public async Task InactiveBeatsVip()
    {
        var phone = TestPhones.New();
        await db.AddCompletedOrdersAsync(phone, 12, 20_000m, Now.AddDays(-181));

        var customer = await SyncAsync(phone);

        Assert.Equal((12, 240_000m, CustomerCategory.Inactive), (customer.TotalOrders, customer.TotalSpent, customer.Category));
    }

    [Fact]
    public async Task RecentOrdersThatAreNotCompletedDoNotKeepACustomerActive()
    {
        var phone = TestPhones.New();
        await db.AddCompletedOrdersAsync(phone, 3, 100m, Now.AddDays(-200));
        await db.AddOrdersAsync(SyncDatabase.OrderOf(phone, 100m, Now.AddDays(-1), OrderStatus.Cancelled));

        Assert.Equal(CustomerCategory.Inactive, (await SyncAsync(phone)).Category);
    }

    [Fact]
    public async Task ThresholdsComeFromCategoryOptions()
    {
        var engine = db.CreateEngine(categories: new CategoryOptions
        {
            RegularMinOrders = 2, VipMinOrders = 5, VipMinSpent = 1_000m, InactiveAfterDays = 30,
        });
        var (regular, vipBySpent, vipByCount, inactive) =
            (TestPhones.New(), TestPhones.New(), TestPhones.New(), TestPhones.New());
        await db.AddCompletedOrdersAsync(regular, 2, 10m, Now.AddDays(-1));
        await db.AddCompletedOrdersAsync(vipBySpent, 1, 1_000m, Now.AddDays(-1));
        await db.AddCompletedOrdersAsync(vipByCount, 5, 1m, Now.AddDays(-1));
        await db.AddCompletedOrdersAsync(inactive, 2, 10m, Now.AddDays(-31));

        await engine.RunAsync(SyncMode.Default, new SyncScope.Phones([regular, vipBySpent, vipByCount, inactive]), null,
            CancellationToken.None);

        Assert.Equal(
            [CustomerCategory.Regular, CustomerCategory.Vip, CustomerCategory.Vip, CustomerCategory.Inactive],
            new[]
            {
                (await db.GetCustomerAsync(regular)).Category, (await db.GetCustomerAsync(vipBySpent)).Category,
                (await db.GetCustomerAsync(vipByCount)).Category, (await db.GetCustomerAsync(inactive)).Category,
            });
    }
}
