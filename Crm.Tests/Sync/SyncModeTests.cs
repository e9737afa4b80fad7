using Crm.Jobs.Customers;
using Crm.Jobs.Orders;
using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;

namespace Crm.Tests.Sync;

// The mode table of docs/SYNC-RULES.md. Runs are scoped to each test's own phones.
public class SyncModeTests(SyncDatabase db) : IClassFixture<SyncDatabase>
{
    private const string Placeholder = "Без имени";

    private DateTime Now => db.Now;

    private Task<Customer> AddCustomerAsync(string phone, string name, string email = "", string city = "", string address = "") =>
        db.AddCustomerAsync(new Customer { Name = name, Phone = phone, Email = email, City = city, Address = address });

    // An older order with other values, then the latest one.
    private async Task AddHistoryAsync(string phone, string name, string email, string city, string address)
    {
        await db.AddOrdersAsync(
            SyncDatabase.OrderOf(phone, 100m, Now.AddDays(-10), name: "Старое Имя", email: "old@example.com",
                city: "Старгород", address: "ул. Старая, 1"),
            SyncDatabase.OrderOf(phone, 200m, Now.AddDays(-1), name: name, email: email, city: city, address: address));
    }

    private static (string, string, string, string) Contact(Customer c) => (c.Name, c.Email, c.City, c.Address);

    [Theory]
    [InlineData(SyncMode.Auto)]
    [InlineData(SyncMode.Default)]
    [InlineData(SyncMode.Force)]
    public async Task MissingCustomerIsCreatedFromTheLatestOrder(SyncMode mode)
    {
        var phone = TestPhones.New();
        await AddHistoryAsync(phone, "Анна Смирнова", "anna@example.com", "Казань", "ул. Баумана, 5");

        var counts = await db.RunAsync(mode, SyncScope.Of(phone));

        Assert.Equal(new SyncCounts(1, 0, 0, 0, 0, 1, counts.DurationMs, counts.RunId), counts);
        var customer = await db.GetCustomerAsync(phone);
        Assert.Equal(("Анна Смирнова", "anna@example.com", "Казань", "ул. Баумана, 5"), Contact(customer));
        Assert.Equal((2, 300m, 150m, Now.AddDays(-1)),
            (customer.TotalOrders, customer.TotalSpent, customer.AverageOrder, customer.LastOrderDate));
        Assert.Equal(Now, customer.CreatedAt);
    }

    [Fact]
    public async Task ContactFieldsOfTheLatestOrderAreTrimmed()
    {
        var phone = TestPhones.New();
        await db.AddOrdersAsync(SyncDatabase.OrderOf(phone, 1m, Now.AddDays(-1),
            name: "  Анна  ", email: " anna@example.com ", city: "  Казань ", address: " ул. Баумана, 5 "));

        await db.RunAsync(SyncMode.Auto, SyncScope.Of(phone));

        Assert.Equal(("Анна", "anna@example.com", "Казань", "ул. Баумана, 5"), Contact(await db.GetCustomerAsync(phone)));
    }

    [Fact]
    public async Task AutoFillsOnlyEmptyContactFieldsOfAnExistingCustomer()
    {
        var phone = TestPhones.New();
        await AddCustomerAsync(phone, "Иван Петров", email: "", city: "Москва", address: "");
        await AddHistoryAsync(phone, "Пётр Сидоров", "petr@example.com", "Казань", "ул. Баумана, 5");

        var counts = await db.RunAsync(SyncMode.Auto, SyncScope.Of(phone));

        Assert.Equal(new SyncCounts(0, 1, 0, 0, 0, 1, counts.DurationMs, counts.RunId), counts);
        var customer = await db.GetCustomerAsync(phone);
        Assert.Equal(("Иван Петров", "petr@example.com", "Москва", "ул. Баумана, 5"), Contact(customer));
        Assert.Equal((2, 300m), (customer.TotalOrders, customer.TotalSpent));
    }

    [Fact]
    public async Task AutoReplacesThePlaceholderName()
    {
        var phone = TestPhones.New();
        await AddCustomerAsync(phone, Placeholder, email: "kept@example.com");
        await AddHistoryAsync(phone, "Анна Смирнова", "anna@example.com", "Казань", "");

        await db.RunAsync(SyncMode.Auto, SyncScope.Of(phone));

        Assert.Equal(("Анна Смирнова", "kept@example.com", "Казань", ""), Contact(await db.GetCustomerAsync(phone)));
    }

    [Fact]
    public async Task AutoKeepsAnEmptyFieldWhenTheLatestOrderHasNoValueEither()
    {
        var phone = TestPhones.New();
        await AddCustomerAsync(phone, Placeholder);
        // Only the latest order counts: the older one's values must not leak in.
        await AddHistoryAsync(phone, "", "", "", "");

        await db.RunAsync(SyncMode.Auto, SyncScope.Of(phone));

        Assert.Equal((Placeholder, "", "", ""), Contact(await db.GetCustomerAsync(phone)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public async Task NewCustomerWithoutANameInItsOrdersIsNamedThePlaceholderUntilAnOrderNamesIt(string orderName)
    {
        var phone = TestPhones.New();
        await db.AddOrdersAsync(SyncDatabase.OrderOf(phone, 10m, Now.AddDays(-2), name: orderName));
        await db.RunAsync(SyncMode.Auto, SyncScope.Of(phone));
        Assert.Equal(Placeholder, (await db.GetCustomerAsync(phone)).Name);

        await db.AddOrdersAsync(SyncDatabase.OrderOf(phone, 20m, Now.AddDays(-1), name: "Мария Кузнецова"));
        await db.RunAsync(SyncMode.Auto, SyncScope.Of(phone));

        Assert.Equal("Мария Кузнецова", (await db.GetCustomerAsync(phone)).Name);
    }

    [Fact]
    public async Task PlaceholderNameComesFromSyncOptions()
    {
        var phone = TestPhones.New();
        await db.AddOrdersAsync(SyncDatabase.OrderOf(phone, 10m, Now.AddDays(-1)));

        await db.CreateEngine(new SyncOptions { PlaceholderName = "Unnamed" })
            .RunAsync(SyncMode.Default, SyncScope.Of(phone), null, CancellationToken.None);

        Assert.Equal("Unnamed", (await db.GetCustomerAsync(phone)).Name);
    }

    [Fact]
    public async Task DefaultLeavesContactFieldsOfAnExistingCustomerUntouchedAndUpdatesStatistics()
    {
        var phone = TestPhones.New();
        // Empty fields and the placeholder too: Default fills nothing.
        await AddCustomerAsync(phone, Placeholder, email: "", city: "Москва", address: "");
        await AddHistoryAsync(phone, "Пётр Сидоров", "petr@example.com", "Казань", "ул. Баумана, 5");

        var counts = await db.RunAsync(SyncMode.Default, SyncScope.Of(phone));

        Assert.Equal(new SyncCounts(0, 1, 0, 0, 0, 1, counts.DurationMs, counts.RunId), counts);
        var customer = await db.GetCustomerAsync(phone);
        Assert.Equal((Placeholder, "", "Москва", ""), Contact(customer));
        Assert.Equal((2, 300m, 150m, Now.AddDays(-1)),
            (customer.TotalOrders, customer.TotalSpent, customer.AverageOrder, customer.LastOrderDate));
    }

    [Fact]
    public async Task ForceOverwritesContactFieldsWhereTheLatestOrderHasAValue()
    {
        var phone = TestPhones.New();
        await AddCustomerAsync(phone, "Иван Петров", email: "ivan@example.com", city: "Москва", address: "ул. Ленина, 1");
        // Empty email and address in the latest order keep the customer's, not the older order's.
        await AddHistoryAsync(phone, "Пётр Сидоров", "", "Казань", "   ");

        var counts = await db.RunAsync(SyncMode.Force, SyncScope.Of(phone));

        Assert.Equal(new SyncCounts(0, 1, 0, 0, 0, 1, counts.DurationMs, counts.RunId), counts);
        var customer = await db.GetCustomerAsync(phone);
        Assert.Equal(("Пётр Сидоров", "ivan@example.com", "Казань", "ул. Ленина, 1"), Contact(customer));
        Assert.Equal((2, 300m), (customer.TotalOrders, customer.TotalSpent));
    }

    [Fact]
    public async Task StatsOnlyCreatesNoCustomer()
    {
        var phone = TestPhones.New();
        await AddHistoryAsync(phone, "Анна Смирнова", "anna@example.com", "Казань", "ул. Баумана, 5");

        var counts = await db.RunAsync(SyncMode.StatsOnly, SyncScope.Of(phone));

        Assert.Equal(new SyncCounts(0, 0, 0, 0, 0, 0, counts.DurationMs, counts.RunId), counts);
        Assert.Null(await db.FindCustomerAsync(phone));
    }

    [Fact]
    public async Task StatsOnlyUpdatesStatisticsOfAnExistingCustomerAndNothingElse()
    {
        var phone = TestPhones.New();
        await AddCustomerAsync(phone, Placeholder, email: "", city: "Москва", address: "");
        await AddHistoryAsync(phone, "Пётр Сидоров", "petr@example.com", "Казань", "ул. Баумана, 5");

        var counts = await db.RunAsync(SyncMode.StatsOnly, SyncScope.Of(phone));

        Assert.Equal(new SyncCounts(0, 1, 0, 0, 0, 1, counts.DurationMs, counts.RunId), counts);
        var customer = await db.GetCustomerAsync(phone);
        Assert.Equal((Placeholder, "", "Москва", ""), Contact(customer));
        Assert.Equal((2, 300m, 150m, Now.AddDays(-1)),
            (customer.TotalOrders, customer.TotalSpent, customer.AverageOrder, customer.LastOrderDate));
    }

    [Fact]
    public async Task LatestOrderTieOnCreatedAtIsBrokenByTheHighestId()
    {
        var phone = TestPhones.New();
        var at = Now.AddDays(-1);
        var first = SyncDatabase.OrderOf(phone, 1m, at, name: "Первый", city: "Первоград");
        var second = SyncDatabase.OrderOf(phone, 1m, at, name: "Второй", city: "Второград");
        // Highest id of all, but a microsecond older: createdAt decides first.
        var older = SyncDatabase.OrderOf(phone, 1m, at.AddTicks(-10), name: "Старый", city: "Старгород");
        await db.AddOrdersAsync(first, second, older);
        Assert.True(first.Id < second.Id && second.Id < older.Id);

        await db.RunAsync(SyncMode.Auto, SyncScope.Of(phone));

        var customer = await db.GetCustomerAsync(phone);
        Assert.Equal(("Второй", "Второград"), (customer.Name, customer.City));
    }

    [Fact]
    public async Task LatestOrderProvidesContactDataWhateverItsStatus()
    {
        var phone = TestPhones.New();
        await AddCustomerAsync(phone, "Иван Петров", city: "Москва");
        await db.AddOrdersAsync(
            SyncDatabase.OrderOf(phone, 100m, Now.AddDays(-5), name: "Иван Петров", city: "Москва"),
            SyncDatabase.OrderOf(phone, 900m, Now.AddDays(-1), OrderStatus.Cancelled, name: "Иван Петров", city: "Сочи"));

        await db.RunAsync(SyncMode.Force, SyncScope.Of(phone));

        var customer = await db.GetCustomerAsync(phone);
        Assert.Equal("Сочи", customer.City);
        Assert.Equal((1, 100m, Now.AddDays(-5)), (customer.TotalOrders, customer.TotalSpent, customer.LastOrderDate));
    }

    [Fact]
    public async Task ScopedRunCountsCreatedUpdatedAndUnchangedExactly()
    {
        var (new1, new2, changed, unchanged) =
            (TestPhones.New(), TestPhones.New(), TestPhones.New(), TestPhones.New());
        await db.AddOrdersAsync(
            SyncDatabase.OrderOf(changed, 10m, Now.AddDays(-3)),
            SyncDatabase.OrderOf(unchanged, 20m, Now.AddDays(-3)));
        await db.RunAsync(SyncMode.Default, new SyncScope.Phones([changed, unchanged]));
        await db.AddOrdersAsync(
            SyncDatabase.OrderOf(changed, 30m, Now.AddDays(-1)),
            SyncDatabase.OrderOf(new1, 40m, Now.AddDays(-1)),
            SyncDatabase.OrderOf(new2, 50m, Now.AddDays(-1)));
        // A phone with neither orders nor a customer is in scope but counts nowhere.
        var nobody = TestPhones.New();

        var counts = await db.RunAsync(SyncMode.Default, new SyncScope.Phones([new1, new2, changed, unchanged, nobody]));

        Assert.Equal(new SyncCounts(2, 1, 1, 0, 0, 4, counts.DurationMs, counts.RunId), counts);
        Assert.Equal(40m, (await db.GetCustomerAsync(changed)).TotalSpent);
    }

    [Fact]
    public async Task ScopedRunTouchesNoOtherCustomer()
    {
        var (inScope, outOfScope) = (TestPhones.New(), TestPhones.New());
        await db.AddOrdersAsync(
            SyncDatabase.OrderOf(inScope, 10m, Now.AddDays(-1)),
            SyncDatabase.OrderOf(outOfScope, 20m, Now.AddDays(-1)));

        await db.RunAsync(SyncMode.Default, SyncScope.Of(inScope));

        Assert.NotNull(await db.FindCustomerAsync(inScope));
        Assert.Null(await db.FindCustomerAsync(outOfScope));
    }
}
