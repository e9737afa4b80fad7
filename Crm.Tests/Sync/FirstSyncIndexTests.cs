using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Crm.Tests.Sync;

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
        var phones = Enumerable.Range(0, 30).Select(_ => TestPhones.New()).ToArray();
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
        await db.AddOrdersAsync(SyncDatabase.OrderOf(TestPhones.New(), 10, db.Now.AddDays(-1), city: "Отказ"));
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
