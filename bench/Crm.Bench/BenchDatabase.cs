using System.Diagnostics;
using Crm.Jobs.Phones;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace Crm.Bench;

// The bench's own SQL on the app's database (as the superuser): resetting tables between runs,
// counting written rows, comparing results, and the reference statement.
public sealed class BenchDatabase(string connectionString) : IAsyncDisposable
{
    public string ConnectionString { get; } = connectionString;
    public string Name { get; } = new NpgsqlConnectionStringBuilder(connectionString).Database!;
    public NpgsqlDataSource DataSource { get; } = NpgsqlDataSource.Create(connectionString);

    // Drops and creates a database of this name on the server of the admin connection string.
    public static async Task<BenchDatabase> CreateAsync(string adminConnectionString, string name)
    {
        await using (var admin = NpgsqlDataSource.Create(adminConnectionString))
        {
            await using (var drop = admin.CreateCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                await drop.ExecuteNonQueryAsync();
            await using var create = admin.CreateCommand($"CREATE DATABASE {name}");
            await create.ExecuteNonQueryAsync();
        }
        var builder = new NpgsqlConnectionStringBuilder(adminConnectionString) { Database = name };
        return new BenchDatabase(builder.ConnectionString);
    }

    // No autovacuum on the tables the bench times: an autoanalyze that lands inside a sync's
    // transaction can change its plans mid-run (see bench/README.md). The bench runs
    // VACUUM ANALYZE itself between steps instead (SettleAsync). Needs the schema: after migrate.
    public Task DisableAutovacuumAsync() => ExecuteAsync("""
        ALTER TABLE orders SET (autovacuum_enabled = false);
        ALTER TABLE customers SET (autovacuum_enabled = false);
        """);

    public async Task<int> ExecuteAsync(string sql)
    {
        await using var command = DataSource.CreateCommand(sql);
        command.CommandTimeout = 0;
        return await command.ExecuteNonQueryAsync();
    }

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var command = DataSource.CreateCommand(sql);
        command.CommandTimeout = 0;
        return (T)(await command.ExecuteScalarAsync())!;
    }

    public async Task<double> TimeAsync(string sql)
    {
        var stopwatch = Stopwatch.StartNew();
        await ExecuteAsync(sql);
        return stopwatch.Elapsed.TotalMilliseconds;
    }

    // Everything but the orders: the next sync starts as a first sync.
    public Task ResetCustomersAsync() =>
        ExecuteAsync("TRUNCATE customers, customer_notes, sync_runs, customer_sync_requests RESTART IDENTITY");

    public Task ResetAllAsync() =>
        ExecuteAsync("TRUNCATE orders, customers, customer_notes, sync_runs, customer_sync_requests RESTART IDENTITY");

    // Every timed step starts from the same state: dirty pages of the previous step written out,
    // fresh statistics, and nothing left for autovacuum to start in the middle of a measurement.
    public async Task SettleAsync(params string[] tables)
    {
        foreach (var table in tables)
            await ExecuteAsync($"VACUUM ANALYZE {table}");
        await ExecuteAsync("CHECKPOINT");
    }

    // The transaction id the next writer will get. Every customer row a later transaction inserts
    // or updates carries an xmin at or above it; rows written before carry one below it (a fresh
    // cluster: epoch 0, no wraparound, so xid comparison as numbers is exact). Unlike
    // pg_stat_user_tables, which backends flush asynchronously, this is exact the moment the job commits.
    public Task<long> NextXidAsync() =>
        ScalarAsync<long>("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint");

    public async Task<RowsWritten> RowsWrittenSinceAsync(long xid, long customersBefore)
    {
        var written = await ScalarAsync<long>($"SELECT count(*) FROM customers WHERE xmin::text::bigint >= {xid}");
        var count = await CountCustomersAsync();
        // The sync never deletes; a drop in the count would show deletes the xmin count cannot see.
        return new RowsWritten(written, Math.Max(0, customersBefore - count));
    }

    // The import's floor: the same orders written by binary COPY straight from the client, as the
    // app's importer writes them (same columns, phones normalised the same way), with no HTTP,
    // JSON or validation around it. Returns the milliseconds the COPY took, commit included.
    public async Task<double> CopyOrdersAsync(IEnumerable<GeneratedOrder> orders, DateTime now)
    {
        var phones = new PhoneNormalizer(Options.Create(new PhoneOptions()));
        var stopwatch = Stopwatch.StartNew();
        await using var connection = await DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var copy = await connection.BeginBinaryImportAsync("""
            COPY orders (customer_name, customer_phone, normalized_phone, customer_email, delivery_city,
                         delivery_address, total_amount, status, created_at, updated_at)
            FROM STDIN (FORMAT BINARY)
            """))
        {
            foreach (var order in orders)
            {
                await copy.StartRowAsync();
                await copy.WriteAsync(order.Name, NpgsqlDbType.Varchar);
                await copy.WriteAsync(order.Phone, NpgsqlDbType.Varchar);
                if (phones.Normalize(order.Phone) is { } normalized)
                    await copy.WriteAsync(normalized, NpgsqlDbType.Varchar);
                else
                    await copy.WriteNullAsync();
                await copy.WriteAsync(order.Email, NpgsqlDbType.Varchar);
                await copy.WriteAsync(order.City, NpgsqlDbType.Varchar);
                await copy.WriteAsync(order.Address, NpgsqlDbType.Varchar);
                await copy.WriteAsync(order.Amount, NpgsqlDbType.Numeric);
                await copy.WriteAsync(order.Status, NpgsqlDbType.Varchar);
                await copy.WriteAsync(order.CreatedAt, NpgsqlDbType.TimestampTz);
                await copy.WriteAsync(now, NpgsqlDbType.TimestampTz);
            }
            await copy.CompleteAsync();
        }
        await transaction.CommitAsync();
        return stopwatch.Elapsed.TotalMilliseconds;
    }

    public Task<long> CountCustomersAsync() => ScalarAsync<long>("SELECT count(*) FROM customers");

    // Keeps the customers as they are now, to compare another algorithm's result with.
    public async Task SnapshotCustomersAsync(string table)
    {
        await ExecuteAsync($"DROP TABLE IF EXISTS {table}");
        await ExecuteAsync($"CREATE TABLE {table} AS SELECT {ComparedColumns} FROM customers");
    }

    // Rows that differ between customers and the snapshot, both ways. (The generated data keeps
    // clear of the inactivity boundary, so results minutes apart compare exactly.)
    public Task<long> CountDifferencesAsync(string table) => ScalarAsync<long>($"""
        SELECT (SELECT count(*) FROM (SELECT {ComparedColumns} FROM customers EXCEPT ALL SELECT * FROM {table}) x)
             + (SELECT count(*) FROM (SELECT * FROM {table} EXCEPT ALL SELECT {ComparedColumns} FROM customers) y)
        """);

    private const string ComparedColumns =
        "phone, name, email, city, address, total_orders, total_spent, average_order, last_order_date, category";

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();
}

public sealed record RowsWritten(long InsertedOrUpdated, long Deleted)
{
    public long Total => InsertedOrUpdated + Deleted;
}
