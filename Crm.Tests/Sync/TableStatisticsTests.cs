using System.Text;
using Crm.Jobs.Data;
using Crm.Jobs.Ledger;
using Crm.Jobs.Orders;
using Crm.Jobs.Privacy;
using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
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

    [Fact]
    public async Task ARevertOfARunThatChangedMuchOfCustomersAnalysesIt()
    {
        await using var db = new SyncDatabase();
        await db.InitializeAsync();
        await db.ExecuteAsync("ALTER TABLE customers SET (autovacuum_enabled = false)");
        var phones = Enumerable.Range(0, 200).Select(_ => TestPhones.New()).ToArray();
        await db.AddOrdersInBulkAsync(phones, perPhone: 1);
        await db.RunAsync(SyncMode.Default, new SyncScope.All());
        // Newer orders with another name: a force sync takes it over for every customer.
        await db.ExecuteAsync($$"""
            INSERT INTO orders (customer_name, customer_phone, normalized_phone, customer_email, delivery_city,
                                delivery_address, total_amount, status, created_at, updated_at)
            SELECT 'Другое Имя', p, p, '', 'Москва', '', 100, 'completed', '{{db.Now:O}}', '{{db.Now:O}}'
            FROM unnest(ARRAY[{{string.Join(", ", phones.Select(p => $"'{p}'"))}}]::varchar[]) AS p
            """);
        await db.RunAsync(SyncMode.Force, new SyncScope.All());
        var runId = await db.ScalarAsync<long>("SELECT max(id) FROM sync_runs");
        var analysed = await AnalyzeCountAsync(db.DataSource, "customers");

        var ledger = new LedgerJobs(db.DataSource, db.Clock, Options.Create(new LedgerOptions()), new DatabaseOptions(),
            NullLogger<LedgerJobs>.Instance);
        Assert.Equal(200, (await ledger.RevertRunAsync(runId, CancellationToken.None)).RevertedCount);

        Assert.Equal(analysed + 1, await AnalyzeCountAsync(db.DataSource, "customers"));
    }

    [Fact]
    public async Task AnEraseOfMuchOfTheOrdersAnalysesThem()
    {
        await using var db = new SyncDatabase();
        await db.InitializeAsync();
        await db.ExecuteAsync("ALTER TABLE orders SET (autovacuum_enabled = false)");
        var person = TestPhones.New();
        await db.AddOrdersInBulkAsync([person], perPhone: 300);
        await db.AddOrdersInBulkAsync(Enumerable.Range(0, 100).Select(_ => TestPhones.New()), perPhone: 1);
        await db.RunAsync(SyncMode.Default, new SyncScope.All());
        var erasureId = await db.ScalarAsync<long>(
            $"INSERT INTO erasures (requested_by, requested_at, phone) VALUES ('statistics-test', now(), '{person}') RETURNING id");
        Assert.Equal(0L, await AnalyzeCountAsync(db.DataSource, "orders"));

        var erasure = new ErasureJobs(db.DataSource, new PhoneHasher(TestKeys.PrivacyHashKey), db.Clock, new DatabaseOptions(),
            NullLogger<ErasureJobs>.Instance);
        Assert.Equal(300, (await erasure.EraseAsync(erasureId, CancellationToken.None)).Counts["orders"]);

        Assert.Equal(1L, await AnalyzeCountAsync(db.DataSource, "orders"));
    }

    // ANALYZE reports to the cumulative statistics at once; each command here is a
    // transaction of its own, so it reads them fresh.
    private static async Task<long> AnalyzeCountAsync(NpgsqlDataSource dataSource, string table)
    {
        await using var command = dataSource.CreateCommand($"SELECT analyze_count FROM pg_stat_user_tables WHERE relname = '{table}'");
        return (long)(await command.ExecuteScalarAsync())!;
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
