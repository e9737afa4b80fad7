using System.Text.Json.Nodes;
using Crm.Jobs.Customers;
using Crm.Jobs.Data;
using Crm.Jobs.Orders;
using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Crm.Tests.Host;

// The executable's commands, run as real child processes on a cloned database of each test's own.
public class SyncCommandTests
{
    [Fact]
    public async Task SyncCreatesOneCustomerPerPhoneAndASecondRunFindsNothingToChange()
    {
        await using var database = await CommandDatabase.CreateAsync();
        var now = DateTime.UtcNow;
        await using (var db = database.CreateDbContext())
        {
            db.Orders.AddRange(
                CommandDatabase.Order("+79990000001", "Анна Петрова", 1000m, OrderStatus.Completed, now.AddDays(-5)),
                CommandDatabase.Order("+79990000001", "Анна Петрова", 3000m, OrderStatus.Completed, now.AddDays(-2)),
                CommandDatabase.Order("+79990000002", "Борис Соколов", 700m, OrderStatus.Completed, now.AddDays(-3)),
                CommandDatabase.Order("+79990000002", "Борис Соколов", 5000m, OrderStatus.Cancelled, now.AddDays(-1)),
                CommandDatabase.Order("+79990000003", "Вера Орлова", 1500m, OrderStatus.Processing, now.AddDays(-1)),
                CommandDatabase.Order(null, "Без телефона", 100m, OrderStatus.Completed, now.AddDays(-1)),
                CommandDatabase.Order(null, "Без телефона", 200m, OrderStatus.Completed, now.AddDays(-1)));
            await db.SaveChangesAsync();
        }

        var first = await CommandDatabase.RunJsonAsync(database.ConnectionString, "sync");

        Assert.Equal("success", (string)first["status"]!);
        Assert.Equal("default", (string)first["mode"]!);
        var counts = first["counts"]!;
        Assert.Equal(3, (int)counts["createdCount"]!);
        Assert.Equal(0, (int)counts["updatedCount"]!);
        Assert.Equal(0, (int)counts["unchangedCount"]!);
        Assert.Equal(2, (int)counts["skippedCount"]!);
        Assert.Equal(0, (int)counts["errorCount"]!);
        Assert.Equal(3, (int)counts["totalCustomers"]!);
        await using (var db = database.CreateDbContext())
        {
            var customers = await db.Customers.AsNoTracking().OrderBy(c => c.Phone).ToListAsync();
            Assert.Equal(["+79990000001", "+79990000002", "+79990000003"], customers.Select(c => c.Phone));
            Assert.Equal(("Анна Петрова", 2, 4000m, 2000m), (customers[0].Name, customers[0].TotalOrders, customers[0].TotalSpent, customers[0].AverageOrder));
            Assert.Equal((1, 700m), (customers[1].TotalOrders, customers[1].TotalSpent));
            // A phone with no completed order still gets its customer, without statistics.
            Assert.Equal(("Вера Орлова", 0, CustomerCategory.New), (customers[2].Name, customers[2].TotalOrders, customers[2].Category));
        }

        var second = await CommandDatabase.RunJsonAsync(database.ConnectionString, "sync");

        var again = second["counts"]!;
        Assert.Equal(0, (int)again["createdCount"]!);
        Assert.Equal(0, (int)again["updatedCount"]!);
        Assert.Equal(3, (int)again["totalCustomers"]!);
        Assert.Equal((int)again["totalCustomers"]!, (int)again["unchangedCount"]!);
        await using (var db = database.CreateDbContext())
        {
            var runs = await db.SyncRuns.AsNoTracking().OrderBy(r => r.Id).ToListAsync();
            Assert.Equal(2, runs.Count);
            Assert.All(runs, run => Assert.Equal((SyncMode.Default, SyncRunStatus.Succeeded, (string?)null), (run.Mode, run.Status, run.JobId)));
        }
    }

    [Fact]
    public async Task StatsOnlyCreatesNobodyAndForceUpdateOverwritesContactsFromTheLatestOrder()
    {
        await using var database = await CommandDatabase.CreateAsync();
        var now = DateTime.UtcNow;
        const string known = "+79990000011";
        const string unknown = "+79990000012";
        await using (var db = database.CreateDbContext())
        {
            db.Customers.Add(new Customer { Name = "Старое Имя", Phone = known, Email = "old@example.com", City = "Тверь" });
            db.Orders.AddRange(
                CommandDatabase.Order(known, "Анна Старая", 1000m, OrderStatus.Completed, now.AddDays(-10), "older@example.com", "Псков"),
                CommandDatabase.Order(known, "Анна Новая", 2000m, OrderStatus.Completed, now.AddDays(-1), "anna@example.com", "Казань"),
                CommandDatabase.Order(unknown, "Борис", 500m, OrderStatus.Completed, now.AddDays(-1)));
            await db.SaveChangesAsync();
        }

        var statsOnly = await CommandDatabase.RunJsonAsync(database.ConnectionString, "sync", "--update-stats-only");

        Assert.Equal("statsOnly", (string)statsOnly["mode"]!);
        Assert.Equal(0, (int)statsOnly["counts"]!["createdCount"]!);
        Assert.Equal(1, (int)statsOnly["counts"]!["updatedCount"]!);
        await using (var db = database.CreateDbContext())
        {
            var customer = await db.Customers.AsNoTracking().SingleAsync();
            Assert.Equal((known, 2, 3000m, 1500m), (customer.Phone, customer.TotalOrders, customer.TotalSpent, customer.AverageOrder));
            Assert.Equal(("Старое Имя", "old@example.com", "Тверь"), (customer.Name, customer.Email, customer.City));
        }

        // A dry run first: the counts and changes of the force sync below, and nothing written.
        var dryRun = await CommandDatabase.RunJsonAsync(database.ConnectionString, "sync", "--force-update", "--dry-run");

        Assert.True((bool)dryRun["dryRun"]!);
        Assert.Equal((1, 1), ((int)dryRun["counts"]!["createdCount"]!, (int)dryRun["counts"]!["updatedCount"]!));
        Assert.Equal(1, (int)dryRun["counts"]!["changes"]!["created"]!);
        Assert.Equal(1, (int)dryRun["counts"]!["changes"]!["email"]!);
        await using (var db = database.CreateDbContext())
        {
            Assert.Equal("old@example.com", (await db.Customers.AsNoTracking().SingleAsync()).Email);
            Assert.True((await db.SyncRuns.AsNoTracking().OrderBy(r => r.Id).LastAsync()).DryRun);
        }

        var force = await CommandDatabase.RunJsonAsync(database.ConnectionString, "sync", "--force-update");

        Assert.Equal("force", (string)force["mode"]!);
        Assert.Equal(1, (int)force["counts"]!["createdCount"]!);
        Assert.Equal(1, (int)force["counts"]!["updatedCount"]!);
        Assert.Equal(2, (int)force["counts"]!["totalCustomers"]!);
        await using (var db = database.CreateDbContext())
        {
            var customer = await db.Customers.AsNoTracking().SingleAsync(c => c.Phone == known);
            Assert.Equal(("Анна Новая", "anna@example.com", "Казань"), (customer.Name, customer.Email, customer.City));
            Assert.Equal((2, 3000m), (customer.TotalOrders, customer.TotalSpent));
            var created = await db.Customers.AsNoTracking().SingleAsync(c => c.Phone == unknown);
            Assert.Equal(("Борис", 1, 500m), (created.Name, created.TotalOrders, created.TotalSpent));
        }
    }
}

public class SyncCommandFailureTests
{
    [Theory]
    [InlineData("--bogus")]
    [InlineData("--force-update", "--update-stats-only")]
    [InlineData("--dry-run", "--dry-run")]
    public async Task SyncWithUnknownOrConflictingFlagsExitsTwoWithAUsageLineAndWritesNothing(params string[] flags)
    {
        await using var database = await CommandDatabase.CreateAsync();

        var (exitCode, output) = await AppProcess.RunAsync(database.ConnectionString, CommandDatabase.Timeout, ["sync", .. flags]);

        Assert.True(exitCode == 2, $"exit {exitCode}: {output}");
        Assert.Contains("usage: sync [--force-update | --update-stats-only]", output);
        await using var db = database.CreateDbContext();
        Assert.Equal(0, await db.SyncRuns.CountAsync());
        Assert.Equal(0, await db.Customers.CountAsync());
    }

    [Fact]
    public async Task SyncAgainstAnUnreachableDatabaseExitsOneAndSaysWhy()
    {
        // Nothing listens on port 1: the connection is refused at once.
        const string unreachable = "Host=127.0.0.1;Port=1;Database=none;Username=none;Password=none;Timeout=2";

        var (exitCode, output) = await AppProcess.RunAsync(unreachable, CommandDatabase.Timeout, "sync");

        Assert.True(exitCode == 1, $"exit {exitCode}: {output}");
        Assert.Contains("sync failed: Failed to connect to 127.0.0.1:1", output);
        Assert.DoesNotContain("\"status\"", output);
    }
}

public class SeedDemoCommandTests
{
    [Fact]
    public async Task SeedDemoImportsTheOrdersAndSyncsCustomersOfEveryCategory()
    {
        await using var database = await CommandDatabase.CreateAsync();

        var result = await CommandDatabase.RunJsonAsync(database.ConnectionString, "seed-demo", "--orders", "400");

        Assert.Equal(400, (int)result["imported"]!);
        Assert.Equal(0, (int)result["rejected"]!);
        Assert.Equal(0, (int)result["sync"]!["errorCount"]!);
        await using var db = database.CreateDbContext();
        Assert.Equal(400, await db.Orders.CountAsync());
        Assert.Equal((int)result["sync"]!["createdCount"]!, await db.Customers.CountAsync());
        var categories = await db.Customers.Select(c => c.Category).Distinct().ToListAsync();
        Assert.Equal(
            [CustomerCategory.New, CustomerCategory.Regular, CustomerCategory.Vip, CustomerCategory.Inactive],
            categories.Order());
        var orphans = await db.Orders.CountAsync(o => o.NormalizedPhone != null && !db.Customers.Any(c => c.Phone == o.NormalizedPhone));
        Assert.Equal(0, orphans);
        // The import's sync requests were all seen by the sync it ran.
        Assert.Equal(0, await db.CustomerSyncRequests.CountAsync(r => r.Version > r.SyncedVersion));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("abc")]
    public async Task SeedDemoWithAnInvalidOrderCountExitsTwoAndWritesNothing(string count)
    {
        await using var database = await CommandDatabase.CreateAsync();

        var (exitCode, output) = await AppProcess.RunAsync(database.ConnectionString, CommandDatabase.Timeout, "seed-demo", "--orders", count);

        Assert.True(exitCode == 2, $"exit {exitCode}: {output}");
        Assert.Contains("usage: seed-demo [--orders N]", output);
        await using var db = database.CreateDbContext();
        Assert.Equal(0, await db.Orders.CountAsync());
    }
}

// A cloned database for one test, dropped when it ends, and helpers to run commands against it.
internal sealed class CommandDatabase : IAsyncDisposable
{
    // A child process starts the whole .NET host: seconds on a busy machine, so be generous.
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    private readonly string _name;

    private CommandDatabase(string name) => _name = name;

    public string ConnectionString => TestDatabase.ConnectionStringFor(_name);

    public static async Task<CommandDatabase> CreateAsync() => new(await TestDatabase.CreateAsync());

    public CrmDbContext CreateDbContext()
    {
        var options = new DbContextOptionsBuilder<CrmDbContext>();
        CrmDbContext.Configure(options, ConnectionString);
        return new CrmDbContext(options.Options);
    }

    public ValueTask DisposeAsync() => new(TestDatabase.DropAsync(_name));

    // Written straight into the table, as a shop bypassing the API would: only a sync sees it.
    public static Order Order(string? phone, string name, decimal amount, OrderStatus status, DateTime createdAt,
        string email = "", string city = "") => new()
        {
            CustomerName = name,
            CustomerPhone = phone ?? "не указан",
            NormalizedPhone = phone,
            CustomerEmail = email,
            DeliveryCity = city,
            TotalAmount = amount,
            Status = status,
            CreatedAt = createdAt,
            UpdatedAt = createdAt,
        };

    // Runs a command that must succeed and returns the JSON object it printed. Its standard
    // output is that object alone (`sync | jq` works); logs go to standard error.
    public static async Task<JsonNode> RunJsonAsync(string connectionString, params string[] args)
    {
        var result = await AppProcess.RunAsync(connectionString, Timeout, args);
        Assert.True(result.ExitCode == 0, $"{string.Join(' ', args)} exited {result.ExitCode}: {result.Output}");
        try
        {
            return JsonNode.Parse(result.StandardOutput)
                   ?? throw new InvalidOperationException($"Empty JSON on stdout:\n{result.StandardOutput}");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new Xunit.Sdk.XunitException($"stdout is not the JSON result alone ({e.Message}):\n{result.StandardOutput}");
        }
    }
}
