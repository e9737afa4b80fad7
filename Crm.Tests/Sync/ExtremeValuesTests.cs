using Crm.Jobs.Customers;
using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;

namespace Crm.Tests.Sync;

// What passes the API fits the columns: the documented maximum amount, many times over.
public class ExtremeValuesTests(SyncDatabase db) : IClassFixture<SyncDatabase>
{
    [Fact]
    public async Task ManyOrdersOfTheLargestAmountSumWithoutOverflow()
    {
        var phone = TestPhones.New();
        await db.AddCompletedOrdersAsync(phone, 3, 9_999_999_999.99m, db.Now.AddDays(-1));

        var counts = await db.RunAsync(SyncMode.Default, SyncScope.Of(phone));

        Assert.Equal((1, 0), (counts.CreatedCount, counts.ErrorCount));
        var customer = await db.GetCustomerAsync(phone);
        Assert.Equal((29_999_999_999.97m, 9_999_999_999.99m, CustomerCategory.Vip),
            (customer.TotalSpent, customer.AverageOrder, customer.Category));
    }
}
