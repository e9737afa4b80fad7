using System.Diagnostics.Metrics;
using System.Globalization;
using Crm.Jobs.Categories;
using Crm.Jobs.Customers;
using Crm.Jobs.Data;
using Crm.Jobs.Hosting;
using Crm.Jobs.Orders;
using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Crm.Tests.Sync;

// The sync engine on its own cloned database, built by hand: no web host, no Hangfire.
// Every test class that uses it gets a database of its own.
public sealed class SyncDatabase : IAsyncLifetime
{
    public static readonly DateTimeOffset Start = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    // Random start, so phones stay unique across classes even when a test reruns in one process.
    private static int _lastPhone = Random.Shared.Next(0, 5_000_000);

    private string _database = "";

    public FakeTimeProvider Clock { get; } = new(Start);
    public NpgsqlDataSource DataSource { get; private set; } = null!;
    public SyncEngine Engine { get; private set; } = null!;
    public RecalculateCategoriesJob Recalculation { get; private set; } = null!;

    public DateTime Now => Clock.GetUtcNow().UtcDateTime;

    public string ConnectionString => TestDatabase.ConnectionStringFor(_database);

    // perPhone completed orders for each phone in one statement (amounts 100, 101, …;
    // one day apart, the newest yesterday), named "Клиент <phone>" in Москва.
    public Task AddOrdersInBulkAsync(IEnumerable<string> phones, int perPhone) => ExecuteAsync(
        $"""
        INSERT INTO orders (customer_name, customer_phone, normalized_phone, customer_email, delivery_city,
                            delivery_address, total_amount, status, created_at, updated_at)
        SELECT 'Клиент ' || p, p, p, '', 'Москва', '', 99 + i, 'completed',
               '{Now:O}'::timestamptz - i * interval '1 day', '{Now:O}'::timestamptz
        FROM unnest(ARRAY[{string.Join(", ", phones.Select(p => $"'{p}'"))}]::varchar[]) AS p, generate_series(1, {perPhone}) AS i
        """);

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        DataSource = NpgsqlDataSource.Create(TestDatabase.ConnectionStringFor(_database));
        Engine = CreateEngine();
        Recalculation = new RecalculateCategoriesJob(
            DataSource, Clock, Options.Create(new CategoryOptions()), NullLogger<RecalculateCategoriesJob>.Instance);
    }

    public async Task DisposeAsync()
    {
        await DataSource.DisposeAsync();
        await TestDatabase.DropAsync(_database);
    }

    public SyncEngine CreateEngine(SyncOptions? sync = null, CategoryOptions? categories = null, NpgsqlDataSource? dataSource = null) =>
        new(dataSource ?? DataSource, Clock, Options.Create(sync ?? new SyncOptions()),
            Options.Create(categories ?? new CategoryOptions()),
            new CrmMetrics(Metrics.GetRequiredService<IMeterFactory>()), NullLogger<SyncEngine>.Instance);

    private static readonly ServiceProvider Metrics = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public static string NewPhone() => $"+7999{Interlocked.Increment(ref _lastPhone) % 10_000_000:D7}";

    public Task<SyncCounts> RunAsync(SyncMode mode, SyncScope scope, string? jobId = null) =>
        Engine.RunAsync(mode, scope, jobId, CancellationToken.None);

    public CrmDbContext CreateDbContext()
    {
        var options = new DbContextOptionsBuilder<CrmDbContext>();
        CrmDbContext.Configure(options, TestDatabase.ConnectionStringFor(_database));
        return new CrmDbContext(options.Options);
    }

    public static Order OrderOf(
        string? phone, decimal amount, DateTime createdAt, OrderStatus status = OrderStatus.Completed,
        string name = "", string email = "", string city = "", string address = "") =>
        new()
        {
            CustomerName = name,
            CustomerPhone = phone ?? "",
            NormalizedPhone = phone,
            CustomerEmail = email,
            DeliveryCity = city,
            DeliveryAddress = address,
            TotalAmount = amount,
            Status = status,
            CreatedAt = createdAt,
            UpdatedAt = createdAt,
        };

    // One SaveChanges per order, so ids follow the argument order (the tie-break depends on ids).
    public async Task<Order[]> AddOrdersAsync(params Order[] orders)
    {
        await using var db = CreateDbContext();
        foreach (var order in orders)
        {
            db.Orders.Add(order);
            await db.SaveChangesAsync();
        }
        return orders;
    }

    // n completed orders of the same amount, one day apart, the newest at `newest`.
    public Task<Order[]> AddCompletedOrdersAsync(string phone, int count, decimal amount, DateTime newest) =>
        AddOrdersAsync(Enumerable.Range(0, count).Select(i => OrderOf(phone, amount, newest.AddDays(-i))).ToArray());

    public async Task<Customer> AddCustomerAsync(Customer customer)
    {
        await using var db = CreateDbContext();
        db.Customers.Add(customer);
        await db.SaveChangesAsync();
        return customer;
    }

    public async Task<Customer?> FindCustomerAsync(string phone)
    {
        await using var db = CreateDbContext();
        return await db.Customers.AsNoTracking().SingleOrDefaultAsync(c => c.Phone == phone);
    }

    public async Task<Customer> GetCustomerAsync(string phone) =>
        await FindCustomerAsync(phone) ?? throw new Xunit.Sdk.XunitException($"No customer with phone {phone}.");

    public Task RefuseCityAsync(string city) => ExecuteAsync(CityRefusal.CreateSql(city));

    public Task AllowCitiesAgainAsync() => ExecuteAsync(CityRefusal.DropSql);

    public async Task ExecuteAsync(string sql)
    {
        await using var command = DataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    // Every customer row's identity and physical version: any write changes xmin.
    public async Task<List<(long Id, string Xmin, DateTime UpdatedAt)>> CustomerRowVersionsAsync()
    {
        await using var command = DataSource.CreateCommand("SELECT id, xmin::text, updated_at FROM customers ORDER BY id");
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(long, string, DateTime)>();
        while (await reader.ReadAsync())
            rows.Add((reader.GetInt64(0), reader.GetString(1), reader.GetDateTime(2)));
        return rows;
    }

    public sealed record StoredRun(
        string? JobId, string Mode, string Status, DateTime StartedAt, DateTime? FinishedAt, int Created, int Updated,
        int Unchanged, int Skipped, int Errors, int Total, long DurationMs, string? Error);

    public async Task<StoredRun> SyncRunAsync(string jobId)
    {
        await using var command = DataSource.CreateCommand("""
            SELECT job_id, mode, status, started_at, finished_at, created_count, updated_count, unchanged_count,
                   skipped_count, error_count, total_customers, duration_ms, error
            FROM sync_runs WHERE job_id = @job_id
            """);
        command.Parameters.AddWithValue("job_id", jobId);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), $"No sync_runs row for job {jobId}.");
        var run = new StoredRun(
            reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetDateTime(3),
            reader.IsDBNull(4) ? null : reader.GetDateTime(4), reader.GetInt32(5), reader.GetInt32(6), reader.GetInt32(7),
            reader.GetInt32(8), reader.GetInt32(9), reader.GetInt32(10), reader.GetInt64(11),
            reader.IsDBNull(12) ? null : reader.GetString(12));
        Assert.False(await reader.ReadAsync(), $"More than one sync_runs row for job {jobId}.");
        return run;
    }

    // Opens its own transaction, as the API does when it writes an order.
    public async Task RecordSyncRequestAsync(params string[] phones)
    {
        await using var connection = await DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await SyncScheduler.RecordAsync(connection, transaction, phones, CancellationToken.None);
        await transaction.CommitAsync();
    }

    public async Task<(long Version, long SyncedVersion)?> SyncRequestAsync(string phone)
    {
        await using var command = DataSource.CreateCommand(
            "SELECT version, synced_version FROM customer_sync_requests WHERE phone = @phone");
        command.Parameters.AddWithValue("phone", phone);
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? (reader.GetInt64(0), reader.GetInt64(1)) : null;
    }

    public static decimal Dec(string value) => decimal.Parse(value, CultureInfo.InvariantCulture);
}

// Statistics: completed orders only. Runs are scoped to each test's own phones.
public class SyncStatisticsTests(SyncDatabase db) : IClassFixture<SyncDatabase>
{
    private DateTime Now => db.Now;

    [Fact]
    public async Task StatisticsCountCompletedOrdersOnly()
    {
        var phone = SyncDatabase.NewPhone();
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
        var phone = SyncDatabase.NewPhone();
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
        var phone = SyncDatabase.NewPhone();
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
        var phone = SyncDatabase.NewPhone();
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
        var phone = SyncDatabase.NewPhone();
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
        var phone = SyncDatabase.NewPhone();
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

// SPEC §3's mode table. Runs are scoped to each test's own phones.
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
        var phone = SyncDatabase.NewPhone();
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
        var phone = SyncDatabase.NewPhone();
        await db.AddOrdersAsync(SyncDatabase.OrderOf(phone, 1m, Now.AddDays(-1),
            name: "  Анна  ", email: " anna@example.com ", city: "  Казань ", address: " ул. Баумана, 5 "));

        await db.RunAsync(SyncMode.Auto, SyncScope.Of(phone));

        Assert.Equal(("Анна", "anna@example.com", "Казань", "ул. Баумана, 5"), Contact(await db.GetCustomerAsync(phone)));
    }

    [Fact]
    public async Task AutoFillsOnlyEmptyContactFieldsOfAnExistingCustomer()
    {
        var phone = SyncDatabase.NewPhone();
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
        var phone = SyncDatabase.NewPhone();
        await AddCustomerAsync(phone, Placeholder, email: "kept@example.com");
        await AddHistoryAsync(phone, "Анна Смирнова", "anna@example.com", "Казань", "");

        await db.RunAsync(SyncMode.Auto, SyncScope.Of(phone));

        Assert.Equal(("Анна Смирнова", "kept@example.com", "Казань", ""), Contact(await db.GetCustomerAsync(phone)));
    }

    [Fact]
    public async Task AutoKeepsAnEmptyFieldWhenTheLatestOrderHasNoValueEither()
    {
        var phone = SyncDatabase.NewPhone();
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
        var phone = SyncDatabase.NewPhone();
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
        var phone = SyncDatabase.NewPhone();
        await db.AddOrdersAsync(SyncDatabase.OrderOf(phone, 10m, Now.AddDays(-1)));

        await db.CreateEngine(new SyncOptions { PlaceholderName = "Unnamed" })
            .RunAsync(SyncMode.Default, SyncScope.Of(phone), null, CancellationToken.None);

        Assert.Equal("Unnamed", (await db.GetCustomerAsync(phone)).Name);
    }

    [Fact]
    public async Task DefaultLeavesContactFieldsOfAnExistingCustomerUntouchedAndUpdatesStatistics()
    {
        var phone = SyncDatabase.NewPhone();
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
        var phone = SyncDatabase.NewPhone();
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
        var phone = SyncDatabase.NewPhone();
        await AddHistoryAsync(phone, "Анна Смирнова", "anna@example.com", "Казань", "ул. Баумана, 5");

        var counts = await db.RunAsync(SyncMode.StatsOnly, SyncScope.Of(phone));

        Assert.Equal(new SyncCounts(0, 0, 0, 0, 0, 0, counts.DurationMs, counts.RunId), counts);
        Assert.Null(await db.FindCustomerAsync(phone));
    }

    [Fact]
    public async Task StatsOnlyUpdatesStatisticsOfAnExistingCustomerAndNothingElse()
    {
        var phone = SyncDatabase.NewPhone();
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
        var phone = SyncDatabase.NewPhone();
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
        var phone = SyncDatabase.NewPhone();
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
            (SyncDatabase.NewPhone(), SyncDatabase.NewPhone(), SyncDatabase.NewPhone(), SyncDatabase.NewPhone());
        await db.AddOrdersAsync(
            SyncDatabase.OrderOf(changed, 10m, Now.AddDays(-3)),
            SyncDatabase.OrderOf(unchanged, 20m, Now.AddDays(-3)));
        await db.RunAsync(SyncMode.Default, new SyncScope.Phones([changed, unchanged]));
        await db.AddOrdersAsync(
            SyncDatabase.OrderOf(changed, 30m, Now.AddDays(-1)),
            SyncDatabase.OrderOf(new1, 40m, Now.AddDays(-1)),
            SyncDatabase.OrderOf(new2, 50m, Now.AddDays(-1)));
        // A phone with neither orders nor a customer is in scope but counts nowhere.
        var nobody = SyncDatabase.NewPhone();

        var counts = await db.RunAsync(SyncMode.Default, new SyncScope.Phones([new1, new2, changed, unchanged, nobody]));

        Assert.Equal(new SyncCounts(2, 1, 1, 0, 0, 4, counts.DurationMs, counts.RunId), counts);
        Assert.Equal(40m, (await db.GetCustomerAsync(changed)).TotalSpent);
    }

    [Fact]
    public async Task ScopedRunTouchesNoOtherCustomer()
    {
        var (inScope, outOfScope) = (SyncDatabase.NewPhone(), SyncDatabase.NewPhone());
        await db.AddOrdersAsync(
            SyncDatabase.OrderOf(inScope, 10m, Now.AddDays(-1)),
            SyncDatabase.OrderOf(outOfScope, 20m, Now.AddDays(-1)));

        await db.RunAsync(SyncMode.Default, SyncScope.Of(inScope));

        Assert.NotNull(await db.FindCustomerAsync(inScope));
        Assert.Null(await db.FindCustomerAsync(outOfScope));
    }
}

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
        var phone = SyncDatabase.NewPhone();
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
        var (fresh, stale, orderless) = (SyncDatabase.NewPhone(), SyncDatabase.NewPhone(), SyncDatabase.NewPhone());
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
        var phone = SyncDatabase.NewPhone();
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
            (SyncDatabase.NewPhone(), SyncDatabase.NewPhone(), SyncDatabase.NewPhone(), SyncDatabase.NewPhone());
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
        var phone = SyncDatabase.NewPhone();
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
        var phone = SyncDatabase.NewPhone();
        await db.AddOrdersAsync(SyncDatabase.OrderOf(phone, 10m, Now.AddDays(-1)));
        var jobId = $"job-{Guid.NewGuid():N}";

        await db.RunAsync(SyncMode.Auto, SyncScope.Of(phone), jobId);

        var run = await db.SyncRunAsync(jobId);
        Assert.Equal(("auto", "succeeded", 1, 0, 0, 1), (run.Mode, run.Status, run.Created, run.Updated, run.Unchanged, run.Total));
        Assert.NotNull(run.FinishedAt);
    }
}

// A run that fails for real (not the data of a few rows: the database itself refuses) on a database of its own.
public class FailedSyncTests(SyncDatabase db) : IClassFixture<SyncDatabase>
{
    private DateTime Now => db.Now;

    [Fact]
    public async Task FailingRunChangesNothingAndRecordsAFailedSyncRun()
    {
        var (stale, missing, forbidden) = (SyncDatabase.NewPhone(), SyncDatabase.NewPhone(), SyncDatabase.NewPhone());
        await db.AddCustomerAsync(new Customer { Name = "Устаревший", Phone = stale, City = "Москва" });
        await db.AddCustomerAsync(new Customer { Name = "Запретный", Phone = forbidden, City = "Москва" });
        await db.AddOrdersAsync(
            SyncDatabase.OrderOf(stale, 100m, Now.AddDays(-1), name: "Новое Имя", city: "Казань"),
            SyncDatabase.OrderOf(missing, 200m, Now.AddDays(-1), name: "Новый"),
            SyncDatabase.OrderOf(forbidden, 300m, Now.AddDays(-1), city: "Запрет"));
        var rowsBefore = await db.CustomerRowVersionsAsync();
        await db.RefuseCityAsync("Запрет");
        var jobId = $"job-{Guid.NewGuid():N}";
        try
        {
            // Force updates existing customers after creating the missing one: both must roll back.
            var error = await Assert.ThrowsAsync<PostgresException>(
                () => db.RunAsync(SyncMode.Force, new SyncScope.All(), jobId));

            Assert.Equal(PostgresErrorCodes.RaiseException, error.SqlState);
            Assert.Null(await db.FindCustomerAsync(missing));
            Assert.Equal(rowsBefore, await db.CustomerRowVersionsAsync());
            var kept = await db.GetCustomerAsync(stale);
            Assert.Equal(("Устаревший", "Москва", 0, 0m), (kept.Name, kept.City, kept.TotalOrders, kept.TotalSpent));

            var run = await db.SyncRunAsync(jobId);
            Assert.Equal(("force", "failed", 1), (run.Mode, run.Status, run.Errors));
            Assert.Equal(Now, run.FinishedAt);
            Assert.True(run.DurationMs >= 0);
            Assert.Contains("test_refuse_city", run.Error);
        }
        finally
        {
            await db.AllowCitiesAgainAsync();
        }

        // The same run succeeds once the cause is gone: the failure left nothing in its way.
        var counts = await db.RunAsync(SyncMode.Force, new SyncScope.All());
        Assert.Equal(new SyncCounts(1, 2, 0, 0, 0, 3, counts.DurationMs, counts.RunId), counts);
        Assert.Equal("Запрет", (await db.GetCustomerAsync(forbidden)).City);
    }
}

// Auto-sync requests: per-customer runs mark what they have seen.
public class SyncRequestTests(SyncDatabase db) : IClassFixture<SyncDatabase>
{
    private DateTime Now => db.Now;

    [Fact]
    public async Task AutoRunMarksTheRequestSyncedUpToTheVersionRecordedBeforeIt()
    {
        var phone = SyncDatabase.NewPhone();
        await db.AddOrdersAsync(SyncDatabase.OrderOf(phone, 10m, Now.AddDays(-1)));
        await db.RecordSyncRequestAsync(phone);
        await db.RecordSyncRequestAsync(phone);
        Assert.Equal((2L, 0L), await db.SyncRequestAsync(phone));

        await db.RunAsync(SyncMode.Auto, SyncScope.Of(phone));

        Assert.Equal((2L, 2L), await db.SyncRequestAsync(phone));
    }

    [Theory]
    [InlineData(SyncMode.Default)]
    [InlineData(SyncMode.Force)]
    [InlineData(SyncMode.StatsOnly)]
    public async Task OnlyAutoRunsMarkRequestsSynced(SyncMode mode)
    {
        var phone = SyncDatabase.NewPhone();
        await db.AddOrdersAsync(SyncDatabase.OrderOf(phone, 10m, Now.AddDays(-1)));
        await db.RecordSyncRequestAsync(phone);

        await db.RunAsync(mode, SyncScope.Of(phone));

        Assert.Equal((1L, 0L), await db.SyncRequestAsync(phone));
    }

    [Fact]
    public async Task AutoRunOfAPhoneWithoutARequestCreatesNone()
    {
        var phone = SyncDatabase.NewPhone();
        await db.AddOrdersAsync(SyncDatabase.OrderOf(phone, 10m, Now.AddDays(-1)));

        await db.RunAsync(SyncMode.Auto, SyncScope.Of(phone));

        Assert.Null(await db.SyncRequestAsync(phone));
        Assert.NotNull(await db.FindCustomerAsync(phone));
    }
}

// The pending scope reads every request in the database, so it has a database of its own.
public class PendingSyncTests(SyncDatabase db) : IClassFixture<SyncDatabase>
{
    private DateTime Now => db.Now;

    [Fact]
    public async Task PendingRunSyncsExactlyThePhonesWithUnseenRequests()
    {
        var (dirty, seen, unrequested, dirtyExisting) =
            (SyncDatabase.NewPhone(), SyncDatabase.NewPhone(), SyncDatabase.NewPhone(), SyncDatabase.NewPhone());
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

// The first sync into an empty customers table drops the secondary indexes and builds them
// after the insert: they must all come back, identical, and serve the search again.
public class FirstSyncIndexTests(SyncDatabase db) : IClassFixture<SyncDatabase>
{
    private async Task<List<string>> IndexDefinitionsAsync()
    {
        await using var command = db.DataSource.CreateCommand(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'customers' ORDER BY indexname");
        await using var reader = await command.ExecuteReaderAsync();
        var definitions = new List<string>();
        while (await reader.ReadAsync())
            definitions.Add(reader.GetString(0));
        return definitions;
    }

    [Fact]
    public async Task AFirstSyncIntoAnEmptyTableRebuildsEveryIndex()
    {
        await db.ExecuteAsync("DELETE FROM customers; DELETE FROM orders");
        var before = await IndexDefinitionsAsync();
        Assert.Contains(before, d => d.Contains("gin_trgm_ops"));
        var phones = Enumerable.Range(0, 30).Select(_ => SyncDatabase.NewPhone()).ToArray();
        await db.AddOrdersAsync(phones.Select((p, i) => SyncDatabase.OrderOf(p, 100 + i, db.Now.AddDays(-1), name: $"Клиент {i}")).ToArray());

        var counts = await db.RunAsync(SyncMode.Default, new SyncScope.All());

        Assert.Equal(30, counts.CreatedCount);
        Assert.Equal(before, await IndexDefinitionsAsync());
        await using var context = db.CreateDbContext();
        Assert.Equal(30, await context.Customers.CountAsync());
        // The unique phone index kept working: a second run creates nobody and changes nothing.
        var again = await db.RunAsync(SyncMode.Default, new SyncScope.All());
        Assert.Equal((0, 0, 30), (again.CreatedCount, again.UpdatedCount, again.UnchangedCount));
        Assert.Equal(before, await IndexDefinitionsAsync());
    }

    [Fact]
    public async Task AFailedFirstSyncLeavesTheIndexesInPlace()
    {
        await db.ExecuteAsync("DELETE FROM customers; DELETE FROM orders");
        var before = await IndexDefinitionsAsync();
        await using var context = db.CreateDbContext();
        await db.AddOrdersAsync(SyncDatabase.OrderOf(SyncDatabase.NewPhone(), 10, db.Now.AddDays(-1), city: "Отказ"));
        await db.RefuseCityAsync("Отказ");
        try
        {
            await Assert.ThrowsAsync<PostgresException>(() => db.RunAsync(SyncMode.Default, new SyncScope.All()));
        }
        finally
        {
            await db.AllowCitiesAgainAsync();
        }

        Assert.Equal(before, await IndexDefinitionsAsync());
        Assert.Equal(0, await context.Customers.CountAsync());
    }
}
