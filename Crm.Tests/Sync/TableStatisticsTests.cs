using System.Text;
using Crm.Jobs.Orders;
using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;
using Npgsql;

namespace Crm.Tests.Sync;

// The work that changes much of a table leaves it analysed before it reports success, so
// the next statements are planned for the table as it is (autovacuum is off here: whatever
// analyses the table is the work itself). Read from pg_class.reltuples, which ANALYZE sets
// in its own transaction (-1: never analysed).
public class TableStatisticsTests
{
    [Fact]
    public async Task AnImportOfMuchOfTheTableAnalysesItAndASmallOneLeavesItToAutovacuum()
    {
        await using var db = new OrderImporterDatabase();
        await db.InitializeAsync();
        await ExecuteAsync(db.DataSource, "ALTER TABLE orders SET (autovacuum_enabled = false)");

        await db.Importer.ImportAsync(Ndjson(500), ImportFormat.Ndjson, CancellationToken.None);
        Assert.Equal(500, await ReltuplesAsync(db.DataSource, "orders"));

        // 10 more rows are under 50 + 10 %: the statistics stay as they were.
        await db.Importer.ImportAsync(Ndjson(10), ImportFormat.Ndjson, CancellationToken.None);
        Assert.Equal(500, await ReltuplesAsync(db.DataSource, "orders"));
    }

    [Fact]
    public async Task ASyncThatCreatesMuchOfTheTableAnalysesIt()
    {
        await using var db = new SyncDatabase();
        await db.InitializeAsync();
        await db.ExecuteAsync("ALTER TABLE customers SET (autovacuum_enabled = false)");
        await db.AddOrdersInBulkAsync(Enumerable.Range(0, 200).Select(_ => TestPhones.New()), perPhone: 2);
        await db.RunAsync(SyncMode.Default, new SyncScope.All());
        Assert.Equal(200, await ReltuplesAsync(db.DataSource, "customers"));

        // As many new customers again, into a table that has customers: a chunked full sync,
        // which builds no index (an index build would count the rows too).
        await db.AddOrdersInBulkAsync(Enumerable.Range(0, 200).Select(_ => TestPhones.New()), perPhone: 2);
        await db.RunAsync(SyncMode.Default, new SyncScope.All());
        Assert.Equal(400, await ReltuplesAsync(db.DataSource, "customers"));
    }

    private static MemoryStream Ndjson(int rows) => new(Encoding.UTF8.GetBytes(string.Join('\n', Enumerable.Range(0, rows).Select(_ =>
        $$"""{"customerName":"Статистика","customerPhone":"{{TestPhones.New()}}","totalAmount":10,"status":"completed"}"""))));

    private static async Task<float> ReltuplesAsync(NpgsqlDataSource dataSource, string table)
    {
        await using var command = dataSource.CreateCommand($"SELECT reltuples FROM pg_class WHERE oid = '{table}'::regclass");
        return (float)(await command.ExecuteScalarAsync())!;
    }

    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
