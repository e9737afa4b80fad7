using System.Diagnostics;
using Crm.Jobs.Categories;
using Crm.Jobs.Data;
using Crm.Jobs.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Crm.Jobs.Sync;

// Which customers a sync run covers.
public abstract record SyncScope
{
    // Every phone in the orders, and every customer.
    public sealed record All : SyncScope;

    // The customers of these phones.
    public sealed record Phones(IReadOnlyList<string> Values) : SyncScope;

    // The customers whose auto-sync requests no finished sync has seen yet (bulk imports, the sweeper).
    public sealed record Pending : SyncScope;

    public static SyncScope Of(string phone) => new Phones([phone]);
}

public sealed record SyncCounts(
    int CreatedCount, int UpdatedCount, int UnchangedCount, int SkippedCount, int ErrorCount,
    int TotalCustomers, long DurationMs);

// The seed's sync rules (SPEC §3) as a handful of set-based statements in one transaction,
// whatever the number of customers. A run either commits whole or not at all, so a killed
// worker leaves nothing half-done and the retried job produces the same result.
public sealed class SyncEngine(
    NpgsqlDataSource dataSource,
    TimeProvider clock,
    IOptions<SyncOptions> syncOptions,
    IOptions<CategoryOptions> categoryOptions,
    CrmMetrics metrics,
    ILogger<SyncEngine> logger)
{
    // Bulk runs (full syncs, pending batches, category recalculation) hold this lock
    // exclusively; per-customer runs hold it shared. So two bulk runs never overlap, and a
    // per-customer run never interleaves with a bulk run and overwrites it with older data.
    // Advisory locks die with their session: a crashed holder cannot keep one (its session
    // ends once its running statement finishes, and its transaction rolls back).
    public const long BulkLockKey = 0x43524d_0001; // "CRM" 1

    // Scopes above this many phones are planned as bulk work (hash joins over whole tables).
    private const int LargeScope = 5_000;

    public async Task<SyncCounts> RunAsync(SyncMode mode, SyncScope scope, string? jobId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await LockAsync(connection, transaction, scope, ct);
        // From here on a new order write queues a new job: this run may already be past it.
        if (scope is SyncScope.Pending)
            await SyncScheduler.ReleaseDispatchClaimAsync(dataSource, ct);

        // The run starts once it holds its lock, so runs of one kind never overlap in sync_runs.
        var stopwatch = Stopwatch.StartNew();
        var runId = await StartRunAsync(mode, jobId, ct);
        using var logScope = logger.BeginScope(new Dictionary<string, object> { ["SyncRunId"] = runId });
        try
        {
            var counts = await SyncAsync(connection, transaction, mode, scope, stopwatch, ct);
            // Recorded inside the transaction: the run row says succeeded exactly when the sync committed,
            // and it finished before the lock passes to the next run.
            await FinishRunAsync(runId, SyncRunStatus.Succeeded, counts, error: null, ct, transaction);
            await transaction.CommitAsync(ct);
            metrics.SyncFinished(mode, counts, succeeded: true);
            logger.LogInformation("Sync {Mode} run {RunId} (job {JobId}): {@Counts}", mode, runId, jobId, counts);
            return counts;
        }
        catch (Exception e)
        {
            var failed = new SyncCounts(0, 0, 0, 0, 1, 0, stopwatch.ElapsedMilliseconds);
            metrics.SyncFinished(mode, failed, succeeded: false);
            try
            {
                await FinishRunAsync(runId, SyncRunStatus.Failed, failed, e.Message, CancellationToken.None);
            }
            catch (Exception recordError)
            {
                // The run's own failure is what the job reports; this one only goes to the log.
                logger.LogWarning(recordError, "Could not record the failure of sync run {RunId}", runId);
            }
            throw;
        }
    }

    // Serialise against other runs (see BulkLockKey), and per customer.
    private static async Task LockAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, SyncScope scope, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("", connection, transaction) { CommandTimeout = 0 };
        command.Parameters.AddWithValue("bulk_lock", BulkLockKey);
        if (scope is SyncScope.Phones phones)
        {
            // Sorted, so that two runs over overlapping phones cannot deadlock.
            command.CommandText = """
                SELECT pg_advisory_xact_lock_shared(@bulk_lock);
                SELECT pg_advisory_xact_lock(hashtextextended(p, 0)) FROM unnest(@phones) AS p ORDER BY p;
                """;
            command.Parameters.AddWithValue("phones", phones.Values.Distinct().Order(StringComparer.Ordinal).ToArray());
        }
        else
        {
            command.CommandText = "SELECT pg_advisory_xact_lock(@bulk_lock)";
        }
        await command.ExecuteNonQueryAsync(ct);
    }

    private async Task<SyncCounts> SyncAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, SyncMode mode, SyncScope scope, Stopwatch stopwatch, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;

        async Task<int> Execute(string sql, Action<NpgsqlCommand>? parameters = null)
        {
            await using var command = new NpgsqlCommand(sql, connection, transaction) { CommandTimeout = 0 };
            command.Parameters.AddWithValue("now", now);
            command.Parameters.AddWithValue("placeholder", syncOptions.Value.PlaceholderName);
            CategoryRules.AddParameters(command, categoryOptions.Value, now);
            parameters?.Invoke(command);
            return await command.ExecuteNonQueryAsync(ct);
        }

        // 1. The phones in scope, with the request version this run will have seen.
        var scoped = scope is not SyncScope.All;
        var scopeSize = 0;
        if (scope is SyncScope.Phones list)
        {
            scopeSize = await Execute("""
                CREATE TEMP TABLE sync_scope ON COMMIT DROP AS
                SELECT p.phone, r.version
                FROM unnest(@phones) AS p(phone)
                LEFT JOIN customer_sync_requests r ON r.phone = p.phone
                """, c => c.Parameters.AddWithValue("phones", list.Values.Distinct().ToArray()));
        }
        else if (scope is SyncScope.Pending)
        {
            scopeSize = await Execute("""
                CREATE TEMP TABLE sync_scope ON COMMIT DROP AS
                SELECT phone, version FROM customer_sync_requests WHERE version > synced_version
                """);
        }

        // Large runs: statistics of customers can be stale mid-run (an autoanalyze during the
        // run sees our uncommitted rows as missing), and a nested loop over 200k × 200k rows
        // then takes minutes; hash joins are right at that size. The per-phone aggregate
        // also fits in memory instead of spilling. A few pending phones keep the planner's
        // index lookups.
        var large = scope is SyncScope.All || scopeSize > LargeScope;
        if (large)
            await Execute("SET LOCAL enable_nestloop = off; SET LOCAL work_mem = '64MB'");
        else if (scope is SyncScope.Pending)
            await Execute("ANALYZE sync_scope");
        var inScope = scoped ? "IN (SELECT phone FROM sync_scope)" : "IS NOT NULL";

        // 2. Per phone: the latest order's contact fields and the completed orders' statistics.
        //    "Latest" = newest created_at, then highest id (the orders index serves this order).
        await Execute($"""
            CREATE TEMP TABLE sync_source ON COMMIT DROP AS
            WITH latest AS (
                SELECT DISTINCT ON (o.normalized_phone)
                       o.normalized_phone AS phone,
                       btrim(o.customer_name, E' \t\r\n') AS name,
                       btrim(o.customer_email, E' \t\r\n') AS email,
                       btrim(o.delivery_city, E' \t\r\n') AS city,
                       btrim(o.delivery_address, E' \t\r\n') AS address
                FROM orders o
                WHERE o.normalized_phone {inScope}
                ORDER BY o.normalized_phone, o.created_at DESC, o.id DESC
            ),
            stats AS (
                SELECT o.normalized_phone AS phone,
                       count(*)::int AS total_orders,
                       sum(o.total_amount) AS total_spent,
                       max(o.created_at) AS last_order_date
                FROM orders o
                WHERE o.status = 'completed' AND o.normalized_phone {inScope}
                GROUP BY o.normalized_phone
            )
            SELECT l.phone, l.name, l.email, l.city, l.address,
                   coalesce(s.total_orders, 0) AS total_orders,
                   coalesce(s.total_spent, 0) AS total_spent,
                   coalesce(round(s.total_spent / s.total_orders, 2), 0) AS average_order,
                   s.last_order_date
            FROM latest l
            LEFT JOIN stats s ON s.phone = l.phone
            """);

        // 3. Create the missing customers, complete from the start (not in statsOnly). The
        //    anti-join skips existing phones cheaply; ON CONFLICT covers a customer created
        //    meanwhile by the API or another run, which step 4 then brings up to date.
        var created = 0;
        if (mode != SyncMode.StatsOnly)
        {
            var deferredIndexes = large ? await DeferIndexesIfEmptyAsync(connection, transaction, ct) : [];
            created = await Execute($"""
                INSERT INTO customers (name, phone, email, city, address,
                                       total_orders, total_spent, average_order, last_order_date, category,
                                       created_at, updated_at)
                SELECT coalesce(nullif(s.name, ''), @placeholder), s.phone, s.email, s.city, s.address,
                       s.total_orders, s.total_spent, s.average_order, s.last_order_date,
                       {CategoryRules.Sql("s.total_orders", "s.total_spent", "s.last_order_date")},
                       @now, @now
                FROM sync_source s
                WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.phone = s.phone)
                ORDER BY s.phone
                ON CONFLICT (phone) DO NOTHING
                """);
            foreach (var definition in deferredIndexes)
                await Execute(definition);
        }

        // 4. Bring existing customers up to date, writing only rows that change. The new
        //    values are computed from the target row itself (c), so a concurrent API edit is
        //    re-read by PostgreSQL rather than overwritten with a stale copy.
        var columns = NewValues(mode);
        var updated = await Execute($"""
            UPDATE customers c
            SET ({string.Join(", ", columns.Keys)}, updated_at) = ({string.Join(", ", columns.Values)}, @now)
            FROM sync_source s
            WHERE s.phone = c.phone
              AND ({string.Join(", ", columns.Keys.Select(k => "c." + k))})
                  IS DISTINCT FROM ({string.Join(", ", columns.Values)})
            """);

        // 5. Customers without any order in scope: no statistics, category new.
        updated += await Execute($"""
            UPDATE customers c
            SET (total_orders, total_spent, average_order, last_order_date, category, updated_at) = (0, 0, 0, NULL, 'new', @now)
            WHERE c.phone {inScope}
              AND NOT EXISTS (SELECT 1 FROM sync_source s WHERE s.phone = c.phone)
              AND (c.total_orders, c.total_spent, c.average_order, c.last_order_date, c.category)
                  IS DISTINCT FROM (0, 0, 0, NULL, 'new')
            """);

        // 6. Auto runs record which writes they have seen, so the sweeper can tell what is left.
        if (mode == SyncMode.Auto && scoped)
        {
            // In phone order, as writers take them (SyncScheduler.RecordAsync): no deadlock.
            await Execute("""
                SELECT 1 FROM customer_sync_requests
                WHERE phone IN (SELECT phone FROM sync_scope)
                ORDER BY phone
                FOR UPDATE
                """);
            await Execute("""
                UPDATE customer_sync_requests r
                SET synced_version = greatest(r.synced_version, s.version)
                FROM sync_scope s
                WHERE r.phone = s.phone AND s.version IS NOT NULL
                """);
        }

        // 7. Counts for the run row and the job's result.
        int total, skipped;
        await using (var command = new NpgsqlCommand($"""
            SELECT (SELECT count(*) FROM customers WHERE phone {inScope})::int,
                   {(scoped ? "0" : "(SELECT count(*) FROM orders WHERE normalized_phone IS NULL)::int")}
            """, connection, transaction))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            await reader.ReadAsync(ct);
            (total, skipped) = (reader.GetInt32(0), reader.GetInt32(1));
        }

        return new SyncCounts(created, updated, total - created - updated, skipped, 0, total, stopwatch.ElapsedMilliseconds);
    }

    // The first sync into an empty customers table: building the secondary indexes once
    // after the insert costs far less than maintaining them row by row (for 200 000
    // customers 5.7 s instead of 9.3 s, the trigram index most of it). DROP INDEX locks the
    // table until the commit, which only readers of the (still empty) table wait for; the
    // primary key and the unique phone index stay, so ON CONFLICT still works. Returns the
    // statements that recreate the dropped indexes, in the same transaction.
    private static async Task<List<string>> DeferIndexesIfEmptyAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
    {
        var indexes = new List<(string Drop, string Create)>();
        await using (var command = new NpgsqlCommand("""
            SELECT format('DROP INDEX %I.%I', n.nspname, c.relname), pg_get_indexdef(i.indexrelid)
            FROM pg_index i
            JOIN pg_class c ON c.oid = i.indexrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE i.indrelid = 'customers'::regclass AND NOT i.indisunique AND NOT i.indisprimary
              AND NOT EXISTS (SELECT 1 FROM customers)
            ORDER BY c.relname
            """, connection, transaction))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
                indexes.Add((reader.GetString(0), reader.GetString(1)));
        }
        if (indexes.Count == 0)
            return [];

        await using (var drop = new NpgsqlCommand(
            string.Join(";\n", ["SET LOCAL maintenance_work_mem = '256MB'", .. indexes.Select(i => i.Drop)]), connection, transaction))
        {
            drop.CommandTimeout = 0;
            await drop.ExecuteNonQueryAsync(ct);
        }
        return indexes.Select(i => i.Create).ToList();
    }

    // Column → new value, per mode (SPEC §3's table). s is the latest order's data.
    private static Dictionary<string, string> NewValues(SyncMode mode)
    {
        var values = new Dictionary<string, string>();
        string[] contact = ["email", "city", "address"];
        switch (mode)
        {
            case SyncMode.Auto:
                // Fill only what is empty (the name also when it is the placeholder).
                values["name"] = "CASE WHEN c.name IN ('', @placeholder) AND s.name <> '' THEN s.name ELSE c.name END";
                foreach (var column in contact)
                    values[column] = $"CASE WHEN c.{column} = '' AND s.{column} <> '' THEN s.{column} ELSE c.{column} END";
                break;
            case SyncMode.Force:
                // Overwrite wherever the latest order has a value.
                values["name"] = "CASE WHEN s.name <> '' THEN s.name ELSE c.name END";
                foreach (var column in contact)
                    values[column] = $"CASE WHEN s.{column} <> '' THEN s.{column} ELSE c.{column} END";
                break;
        }
        values["total_orders"] = "s.total_orders";
        values["total_spent"] = "s.total_spent";
        values["average_order"] = "s.average_order";
        values["last_order_date"] = "s.last_order_date";
        values["category"] = CategoryRules.Sql("s.total_orders", "s.total_spent", "s.last_order_date");
        return values;
    }

    private async Task<long> StartRunAsync(SyncMode mode, string? jobId, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO sync_runs (job_id, mode, status, started_at, created_count, updated_count, unchanged_count,
                                   skipped_count, error_count, total_customers, duration_ms)
            VALUES (@job_id, @mode, 'running', @now, 0, 0, 0, 0, 0, 0, 0)
            RETURNING id
            """);
        command.Parameters.AddWithValue("job_id", (object?)jobId ?? DBNull.Value);
        command.Parameters.AddWithValue("mode", EnumText.ToText(mode));
        command.Parameters.AddWithValue("now", clock.GetUtcNow().UtcDateTime);
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    private async Task FinishRunAsync(
        long runId, SyncRunStatus status, SyncCounts counts, string? error, CancellationToken ct, NpgsqlTransaction? transaction = null)
    {
        await using var command = transaction is null ? dataSource.CreateCommand() : new NpgsqlCommand("", transaction.Connection, transaction);
        command.CommandText = """
            UPDATE sync_runs
            SET status = @status, finished_at = @now, created_count = @created, updated_count = @updated,
                unchanged_count = @unchanged, skipped_count = @skipped, error_count = @errors,
                total_customers = @total, duration_ms = @duration, error = @error
            WHERE id = @id
            """;
        command.Parameters.AddWithValue("id", runId);
        command.Parameters.AddWithValue("status", EnumText.ToText(status));
        command.Parameters.AddWithValue("now", clock.GetUtcNow().UtcDateTime);
        command.Parameters.AddWithValue("created", counts.CreatedCount);
        command.Parameters.AddWithValue("updated", counts.UpdatedCount);
        command.Parameters.AddWithValue("unchanged", counts.UnchangedCount);
        command.Parameters.AddWithValue("skipped", counts.SkippedCount);
        command.Parameters.AddWithValue("errors", counts.ErrorCount);
        command.Parameters.AddWithValue("total", counts.TotalCustomers);
        command.Parameters.AddWithValue("duration", counts.DurationMs);
        command.Parameters.AddWithValue("error", (object?)error ?? DBNull.Value);
        await command.ExecuteNonQueryAsync(ct);
    }
}
