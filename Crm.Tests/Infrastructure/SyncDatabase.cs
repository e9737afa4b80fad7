using System.Diagnostics.Metrics;
using System.Globalization;
using Crm.Jobs.Categories;
using Crm.Jobs.Customers;
using Crm.Jobs.Data;
using Crm.Jobs.Hosting;
using Crm.Jobs.Orders;
using Crm.Jobs.Sync;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Crm.Tests.Infrastructure;

// The sync engine on its own cloned database, built by hand: no web host, no Hangfire.
// Every test class that uses it gets a database of its own.
public sealed class SyncDatabase : IAsyncLifetime
{
    public static readonly DateTimeOffset Start = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

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

    public SyncEngine CreateEngine(
        SyncOptions? sync = null, CategoryOptions? categories = null, NpgsqlDataSource? dataSource = null, ILogger<SyncEngine>? logger = null) =>
        new(dataSource ?? DataSource, Clock, Options.Create(sync ?? new SyncOptions()),
            Options.Create(categories ?? new CategoryOptions()),
            new CrmMetrics(Metrics.GetRequiredService<IMeterFactory>()), logger ?? NullLogger<SyncEngine>.Instance);

    private static readonly ServiceProvider Metrics = new ServiceCollection().AddMetrics().BuildServiceProvider();

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

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var command = DataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
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
