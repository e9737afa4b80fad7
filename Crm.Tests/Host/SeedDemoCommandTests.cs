using Crm.Jobs.Customers;
using Crm.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Crm.Tests.Host;

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
