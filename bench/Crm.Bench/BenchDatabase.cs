using System.Diagnostics;
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

    // auto_explain for new sessions of this database only (ANALYZE, BUFFERS, nested statements
    // such as triggers), statements slower than minDurationMs; ALTER DATABASE … RESET ALL ends it.
    public async Task LogPlansAsync(int minDurationMs)
    {
        string[] settings =
        [
            "session_preload_libraries = 'auto_explain'",
            $"auto_explain.log_min_duration = {minDurationMs}",
            "auto_explain.log_analyze = on",
            "auto_explain.log_buffers = on",
            "auto_explain.log_nested_statements = on",
        ];
        foreach (var setting in settings)
            await ExecuteAsync($"ALTER DATABASE {Name} SET {setting}");
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
        ExecuteAsync("TRUNCATE customers, customer_phones, customer_notes, customer_changes, sync_runs, customer_sync_requests RESTART IDENTITY");

    public Task ResetAllAsync() =>
        ExecuteAsync("TRUNCATE orders, customers, customer_phones, customer_notes, customer_changes, sync_runs, customer_sync_requests RESTART IDENTITY");

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
    // app's importer writes them (same columns, the same normalised phones — from the generator,
    // parsed by nothing), with no HTTP, JSON, validation or phone parsing around it. Returns the
    // milliseconds the COPY took, commit included.
    public async Task<double> CopyOrdersAsync(IEnumerable<GeneratedOrder> orders, DateTime now)
    {
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
                if (order.NormalizedPhone is { } normalized)
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

    // What the orders table holds, in aggregates over every column the imports write (a sum of
    // hashes per text column): two loads of the same orders (COPY, NDJSON, CSV) give the same line.
    public Task<string> OrdersFingerprintAsync() => ScalarAsync<string>("""
        SELECT concat_ws(' ', count(*), count(normalized_phone), sum(total_amount),
                         sum(hashtext(normalized_phone)), sum(hashtext(customer_name)), sum(hashtext(customer_phone)),
                         sum(hashtext(customer_email)), sum(hashtext(delivery_city)), sum(hashtext(delivery_address)),
                         sum(hashtext(status)), sum(extract(epoch FROM created_at))::bigint)
        FROM orders
        """);

    // `count` distinct existing customers in a repeatable pseudo-random order (ids drawn from
    // the table's id range; the few gaps are drawn again).
    public async Task<List<SampledCustomer>> SampleCustomersAsync(int count, int seed)
    {
        var random = new Random(seed);
        var min = await ScalarAsync<long>("SELECT coalesce(min(id), 0) FROM customers");
        var max = await ScalarAsync<long>("SELECT coalesce(max(id), 0) FROM customers");
        count = (int)Math.Min(count, await CountCustomersAsync());
        var result = new List<SampledCustomer>();
        var seen = new HashSet<long>();
        for (var attempt = 0; result.Count < count && attempt < 20; attempt++)
        {
            var wanted = new List<long>();
            while (wanted.Count < (count - result.Count) * 2 && seen.Count < max - min + 1)
            {
                var id = random.NextInt64(min, max + 1);
                if (seen.Add(id))
                    wanted.Add(id);
            }
            await using var command = DataSource.CreateCommand("SELECT id, phone, name FROM customers WHERE id = ANY(@ids)");
            command.Parameters.AddWithValue("ids", wanted.ToArray());
            var found = new Dictionary<long, SampledCustomer>();
            await using (var reader = await command.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                    found[reader.GetInt64(0)] = new SampledCustomer(reader.GetInt64(0), reader.GetString(1), reader.GetString(2));
            }
            foreach (var id in wanted)
            {
                if (result.Count < count && found.TryGetValue(id, out var customer))
                    result.Add(customer);
            }
        }
        return result;
    }

    // What a customer's statistics must say: the completed orders of the phone, now.
    public Task<CustomerTotals> CompletedTotalsAsync(string phone) => CompletedTotalsAsync([phone]);

    // Over every phone of a customer.
    public async Task<CustomerTotals> CompletedTotalsAsync(string[] phones)
    {
        await using var command = DataSource.CreateCommand("""
            SELECT count(*)::int, coalesce(sum(total_amount), 0) FROM orders
            WHERE normalized_phone = ANY(@phones) AND status = 'completed'
            """);
        command.Parameters.AddWithValue("phones", phones);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return new CustomerTotals(reader.GetInt32(0), reader.GetDecimal(1));
    }

    // What the customers' rows say now.
    public async Task<Dictionary<long, CustomerTotals>> CustomerTotalsAsync(IEnumerable<long> ids)
    {
        await using var command = DataSource.CreateCommand("SELECT id, total_orders, total_spent FROM customers WHERE id = ANY(@ids)");
        command.Parameters.AddWithValue("ids", ids.ToArray());
        var result = new Dictionary<long, CustomerTotals>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            result[reader.GetInt64(0)] = new CustomerTotals(reader.GetInt32(1), reader.GetDecimal(2));
        return result;
    }

    // How many of these customers' statistics differ from their completed orders now.
    public async Task<long> StaleCustomersAsync(long[] ids)
    {
        await using var command = DataSource.CreateCommand("""
            SELECT count(*)
            FROM customers c
            CROSS JOIN LATERAL (
                SELECT count(*)::int AS total_orders, coalesce(sum(o.total_amount), 0) AS total_spent
                FROM orders o WHERE o.normalized_phone = c.phone AND o.status = 'completed') s
            WHERE c.id = ANY(@ids) AND (c.total_orders, c.total_spent) IS DISTINCT FROM (s.total_orders, s.total_spent)
            """);
        command.Parameters.AddWithValue("ids", ids);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    // An order written around the API (so no sync is requested for it): completed, now.
    public async Task<long> InsertCompletedOrderAsync(SampledCustomer customer, decimal amount)
    {
        await using var command = DataSource.CreateCommand("""
            INSERT INTO orders (customer_name, customer_phone, normalized_phone, customer_email, delivery_city,
                                delivery_address, total_amount, status, created_at, updated_at)
            VALUES (@name, @phone, @phone, '', '', '', @amount, 'completed', now(), now())
            RETURNING id
            """);
        command.Parameters.AddWithValue("name", customer.Name);
        command.Parameters.AddWithValue("phone", customer.Phone);
        command.Parameters.AddWithValue("amount", amount);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    // Completed orders of a phone written around the API, a minute apart, ending now.
    public Task InsertCompletedOrdersAsync(string phone, int count) => ExecuteAsync($"""
        INSERT INTO orders (customer_name, customer_phone, normalized_phone, customer_email, delivery_city,
                            delivery_address, total_amount, status, created_at, updated_at)
        SELECT '', '{phone}', '{phone}', '', '', '', 100 + n % 900, 'completed', now() - n * interval '1 minute', now()
        FROM generate_series(1, {count}) AS n
        """);

    // The customers holding these phones (as primary or other phone) and the phones' orders.
    public Task DeleteCustomersAndOrdersOfAsync(IEnumerable<string> phones)
    {
        var list = string.Join(", ", phones.Select(p => $"'{p}'"));
        return list.Length == 0 ? Task.CompletedTask : ExecuteAsync($"""
            DELETE FROM customers WHERE phone IN ({list}) OR id IN (SELECT customer_id FROM customer_phones WHERE phone IN ({list}));
            DELETE FROM orders WHERE normalized_phone IN ({list});
            DELETE FROM customer_sync_requests WHERE phone IN ({list});
            """);
    }

    public async Task<int> DeleteOtherPhonesAsync(IEnumerable<string> phones)
    {
        await using var command = DataSource.CreateCommand("DELETE FROM customer_phones WHERE phone = ANY(@phones)");
        command.Parameters.AddWithValue("phones", phones.ToArray());
        return await command.ExecuteNonQueryAsync();
    }

    public async Task<int> DeleteOrdersAsync(IEnumerable<long> ids)
    {
        await using var command = DataSource.CreateCommand("DELETE FROM orders WHERE id = ANY(@ids)");
        command.Parameters.AddWithValue("ids", ids.ToArray());
        return await command.ExecuteNonQueryAsync();
    }

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

public sealed record SampledCustomer(long Id, string Phone, string Name);

public readonly record struct CustomerTotals(int Orders, decimal Spent);

public sealed record RowsWritten(long InsertedOrUpdated, long Deleted)
{
    public long Total => InsertedOrUpdated + Deleted;
}
