using Crm.Jobs.Customers;
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
