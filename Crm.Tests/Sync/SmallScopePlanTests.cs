using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;
using Npgsql;

namespace Crm.Tests.Sync;

// Per-customer work costs what that customer's rows cost, not what the table costs: a
// one-phone statistics run and a few-phone pending run over 200 000 orders read a handful
// of heap blocks and scan no table whole. Read from PostgreSQL's own counters (a sequential
// scan of orders or customers, the heap blocks each run touched), not from timings.
public class SmallScopePlanTests(LargeOrdersTable table) : IClassFixture<LargeOrdersTable>
{
    private readonly SyncDatabase db = table.Db;

    [Fact]
    public async Task OneCustomersStatisticsReadOnlyThatCustomersRows()
    {
        var phone = table.Phones[LargeOrdersTable.PhoneCount / 2];
        await db.AddOrdersAsync(SyncDatabase.OrderOf(phone, 1m, db.Now));

        var (counts, touched) = await MeasureAsync(engine => engine.RunAsync(SyncMode.StatsOnly, SyncScope.Of(phone), "stats", CancellationToken.None));

        Assert.Equal(1, counts.UpdatedCount);
        AssertSmall(touched);
    }

    [Fact]
    public async Task APendingBatchOfAFewCustomersReadsOnlyTheirRows()
    {
        var phones = table.Phones.Take(3).ToArray();
        await db.AddOrdersAsync(phones.Select(p => SyncDatabase.OrderOf(p, 2m, db.Now)).ToArray());
        await db.RecordSyncRequestAsync(phones);

        var (counts, touched) = await MeasureAsync(engine => engine.RunAsync(SyncMode.Auto, new SyncScope.Pending(), "pending", CancellationToken.None));

        Assert.Equal(3, counts.UpdatedCount);
        AssertSmall(touched);
    }

    private static void AssertSmall(Dictionary<string, (long SeqScans, long HeapBlocks)> touched)
    {
        // A whole-table read would be ~2 000 heap blocks of orders; the customers' own orders
        // are a few blocks each. The ledger (40 000 'created' rows from the first sync) is
        // written and counted per run, never scanned.
        foreach (var table in new[] { "orders", "customers", "customer_changes" })
        {
            Assert.Equal(0, touched[table].SeqScans);
            Assert.True(touched[table].HeapBlocks < 100, $"{table} heap blocks: {touched[table].HeapBlocks}");
        }
    }

    // Runs the engine on connections of its own and returns what it did to orders and
    // customers. PostgreSQL publishes a session's counters when the session ends, so the
    // run's connections are not pooled, and the counters are read once every session but
    // ours has left the database.
    private async Task<(SyncCounts, Dictionary<string, (long SeqScans, long HeapBlocks)>)> MeasureAsync(
        Func<SyncEngine, Task<SyncCounts>> run)
    {
        NpgsqlConnection.ClearAllPools();
        db.DataSource.Clear();
        await WaitForOtherSessionsToLeaveAsync();
        var before = await CountersAsync();

        var unpooled = new NpgsqlConnectionStringBuilder(db.ConnectionString) { Pooling = false }.ConnectionString;
        await using (var dataSource = NpgsqlDataSource.Create(unpooled))
        {
            var counts = await run(db.CreateEngine(dataSource: dataSource));
            await dataSource.DisposeAsync();
            await WaitForOtherSessionsToLeaveAsync();
            var after = await CountersAsync();
            return (counts, after.ToDictionary(a => a.Key, a => (a.Value.SeqScans - before[a.Key].SeqScans, a.Value.HeapBlocks - before[a.Key].HeapBlocks)));
        }
    }

    private async Task WaitForOtherSessionsToLeaveAsync()
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(db.ConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await Waiting.UntilAsync(async () =>
        {
            await using var command = new NpgsqlCommand(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()", connection);
            return (long)(await command.ExecuteScalarAsync())!;
        }, others => others == 0, "the other sessions to leave the database");
    }

    private async Task<Dictionary<string, (long SeqScans, long HeapBlocks)>> CountersAsync()
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(db.ConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT t.relname, t.seq_scan, coalesce(io.heap_blks_hit, 0) + coalesce(io.heap_blks_read, 0)
            FROM pg_stat_user_tables t JOIN pg_statio_user_tables io USING (relid)
            WHERE t.relname IN ('orders', 'customers', 'customer_changes')
            """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var counters = new Dictionary<string, (long, long)>();
        while (await reader.ReadAsync())
            counters[reader.GetString(0)] = (reader.GetInt64(1), reader.GetInt64(2));
        return counters;
    }
}
