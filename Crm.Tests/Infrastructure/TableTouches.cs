using Npgsql;

namespace Crm.Tests.Infrastructure;

// What a piece of work did to some tables, from PostgreSQL's own counters: sequential scans
// and heap blocks read. PostgreSQL publishes a session's counters when the session ends, so
// the work runs on unpooled connections of its own, and the counters are read once every
// session but ours has left the database.
public static class TableTouches
{
    public static async Task<(T Result, Dictionary<string, (long SeqScans, long HeapBlocks)> Touched)> MeasureAsync<T>(
        string connectionString, string[] tables, Func<NpgsqlDataSource, Task<T>> run)
    {
        NpgsqlConnection.ClearAllPools();
        await WaitForOtherSessionsToLeaveAsync(connectionString);
        var before = await CountersAsync(connectionString, tables);

        var unpooled = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString;
        await using var dataSource = NpgsqlDataSource.Create(unpooled);
        var result = await run(dataSource);
        await dataSource.DisposeAsync();
        await WaitForOtherSessionsToLeaveAsync(connectionString);
        var after = await CountersAsync(connectionString, tables);
        return (result, after.ToDictionary(a => a.Key,
            a => (a.Value.SeqScans - before[a.Key].SeqScans, a.Value.HeapBlocks - before[a.Key].HeapBlocks)));
    }

    private static async Task WaitForOtherSessionsToLeaveAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await Waiting.UntilAsync(async () =>
        {
            await using var command = new NpgsqlCommand(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()", connection);
            return (long)(await command.ExecuteScalarAsync())!;
        }, others => others == 0, "the other sessions to leave the database");
    }

    private static async Task<Dictionary<string, (long SeqScans, long HeapBlocks)>> CountersAsync(string connectionString, string[] tables)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT t.relname, t.seq_scan, coalesce(io.heap_blks_hit, 0) + coalesce(io.heap_blks_read, 0)
            FROM pg_stat_user_tables t JOIN pg_statio_user_tables io USING (relid)
            WHERE t.schemaname = 'public' AND t.relname = ANY(@tables)
            """, connection);
        command.Parameters.AddWithValue("tables", tables);
        await using var reader = await command.ExecuteReaderAsync();
        var counters = new Dictionary<string, (long, long)>();
        while (await reader.ReadAsync())
            counters[reader.GetString(0)] = (reader.GetInt64(1), reader.GetInt64(2));
        return counters;
    }
}
