using Npgsql;

namespace Crm.Bench.Http;

// What PostgreSQL did for the benchmark's database between two snapshots: each statement's
// calls (pg_stat_statements, loaded by bench/http.sh with shared_preload_libraries), the
// committed transactions (pg_stat_database) and the WAL flushes of the whole server
// (pg_stat_wal). Read from the `postgres` database, so reading adds nothing to the counts
// but the reader's own transactions on the server (none in crm_bench).
public sealed class StatementCounter(string adminConnectionString)
{
    public sealed record Statement(string Query, long Calls, double TotalMs);

    public sealed record Snapshot(DateTime At, long Commits, long WalSyncs, Dictionary<long, Statement> Statements);

    // False when the server was started without the library (a server not started by http.sh).
    public async Task<bool> TryEnableAsync()
    {
        await using var connection = await OpenAsync();
        await using var libraries = new NpgsqlCommand("SHOW shared_preload_libraries", connection);
        if (!((string?)await libraries.ExecuteScalarAsync() ?? "").Contains("pg_stat_statements"))
            return false;
        await using var create = new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", connection);
        await create.ExecuteNonQueryAsync();
        return true;
    }

    public async Task<Snapshot> TakeAsync()
    {
        await using var connection = await OpenAsync();
        await using var totals = new NpgsqlCommand($"""
            SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = '{BenchDatabase.Name}'),
                   (SELECT wal_sync FROM pg_stat_wal)
            """, connection);
        long commits, walSyncs;
        await using (var reader = await totals.ExecuteReaderAsync())
        {
            await reader.ReadAsync();
            (commits, walSyncs) = (reader.GetInt64(0), reader.GetInt64(1));
        }
        await using var statements = new NpgsqlCommand($"""
            SELECT queryid, query, calls, total_exec_time FROM pg_stat_statements
            WHERE dbid = (SELECT oid FROM pg_database WHERE datname = '{BenchDatabase.Name}')
              AND query NOT LIKE '%{Marker}%'
            """, connection);
        var byId = new Dictionary<long, Statement>();
        await using (var reader = await statements.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                var id = reader.GetInt64(0);
                var statement = new Statement(reader.GetString(1), reader.GetInt64(2), reader.GetDouble(3));
                // One text per statement id and database; other users' rows add up.
                byId[id] = byId.TryGetValue(id, out var seen)
                    ? seen with { Calls = seen.Calls + statement.Calls, TotalMs = seen.TotalMs + statement.TotalMs }
                    : statement;
            }
        }
        return new Snapshot(DateTime.UtcNow, commits, walSyncs, byId);
    }

    // The benchmark's own statements in crm_bench carry this comment and are left out.
    public const string Marker = "crm-bench";

    private async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(adminConnectionString)
        {
            Database = "postgres",
            Pooling = false,
        }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }
}
