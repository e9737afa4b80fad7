using System.Data;
using Crm.Jobs.Data;
using Npgsql;

namespace Crm.Jobs.Sync;

// A bulk run into an empty customers table (the first sync, the first import's batch):
// building the secondary indexes once after the insert costs far less than maintaining
// them row by row (for 200 000 customers 5.7 s instead of 9.3 s, the trigram index most
// of it). They are dropped and rebuilt in short transactions of their own around the
// run's, not inside it: DROP INDEX locks out readers until its transaction ends, and
// readers must never wait for a whole sync. The rebuild (CREATE INDEX) locks out writers
// of customers only, for the build. The primary key and the unique phone index stay, so
// ON CONFLICT still works. deferred_indexes keeps the definitions, written in the
// transaction that drops them: after a crash in between, the next bulk run rebuilds them.
// Only a role with the rights of the table's owner may drop and build its indexes: the app
// role of a deployment (docs/SECURITY.md#database-roles) does neither, its runs keep the
// indexes up row by row (slower into an empty table, the same result).
internal static class DeferredIndexes
{
    // The usual case, a table with customers and nothing deferred, costs this one query (an
    // index probe: per-customer runs never scan customers).
    private const string MayDeferSql = """
        SELECT pg_has_role(c.relowner, 'USAGE')
               AND ((SELECT id FROM customers ORDER BY id LIMIT 1) IS NULL OR EXISTS (SELECT 1 FROM deferred_indexes))
        FROM pg_class c WHERE c.oid = 'customers'::regclass
        """;

    // The secondary indexes of `table`, recorded before they are dropped, while `condition`
    // still holds (checked again under the lock: another run may have filled the table).
    private static string RecordIndexesSqlFor(string table, string condition) => $"""
        INSERT INTO deferred_indexes (name, definition)
        SELECT format('%I.%I', n.nspname, c.relname), pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE i.indrelid = '{table}'::regclass AND NOT i.indisunique AND NOT i.indisprimary
          AND {condition}
        ORDER BY 1
        ON CONFLICT (name) DO NOTHING
        RETURNING name
        """;

    // Those of an empty customers table. A statsOnly run (@inserts false) creates no
    // customers: nothing to gain.
    private static readonly string RecordIndexesSql = RecordIndexesSqlFor("customers", "NOT EXISTS (SELECT 1 FROM customers) AND @inserts");

    private const string AnyWaitingSql = "SELECT EXISTS (SELECT 1 FROM deferred_indexes)";

    // The shop snapshot into orders without shop orders (the first start): the same for orders,
    // whose own rows (the API's) keep only their primary key and the unique (source, source_id),
    // the snapshot MERGE's key, while it runs. Only while those rows are few (a scan of them
    // costs a few milliseconds): a CRM with many orders of its own keeps its indexes, so that
    // its per-customer reads and syncs stay index lookups during the snapshot.
    private static readonly string FewOwnOrders = $"""
        NOT EXISTS (SELECT 1 FROM orders WHERE source = 'shop' AND source_id IS NOT NULL)
        AND (SELECT count(*) FROM (SELECT 1 FROM orders LIMIT {MaxOwnOrdersToDefer + 1}) o) <= {MaxOwnOrdersToDefer}
        """;

    public const int MaxOwnOrdersToDefer = 10_000;

    private static readonly string MayDeferOrdersSql = $"""
        SELECT pg_has_role(c.relowner, 'USAGE') AND {FewOwnOrders}
        FROM pg_class c WHERE c.oid = 'orders'::regclass
        """;

    private static readonly string RecordOrdersIndexesSql = RecordIndexesSqlFor("orders", FewOwnOrders);

    // Index builds get more memory than a session's default: they sort the whole table.
    private const string BuildSettingsSql = "SET LOCAL maintenance_work_mem = '256MB'";

    private const string DefinitionsSql = "SELECT definition FROM deferred_indexes ORDER BY name";

    // Runs `run` with the secondary indexes dropped if customers is empty, and rebuilds them after.
    public static async Task<SyncCounts> DeferringAsync(
        NpgsqlConnection connection, SyncMode mode, Func<Task<SyncCounts>> run, CancellationToken ct)
    {
        var rebuild = await DeferIfEmptyAsync(connection, mode, ct);
        try
        {
            return await run();
        }
        finally
        {
            // A broken connection cannot rebuild; the next bulk run does.
            if (rebuild && connection.State == ConnectionState.Open)
                await RebuildAsync(connection, ct);
        }
    }

    // Drops the secondary indexes if customers is empty; true if any index waits for its rebuild.
    private static Task<bool> DeferIfEmptyAsync(NpgsqlConnection connection, SyncMode mode, CancellationToken ct) =>
        DeferAsync(connection, MayDeferSql, RecordIndexesSql, ct, ("inserts", mode != SyncMode.StatsOnly));

    // The shop snapshot's: drops the secondary indexes of orders if it holds no shop order, in a
    // short transaction of its own connection before the snapshot's transaction touches orders
    // (before its copy straight into orders); true if any index waits for BuildWaitingAsync.
    // 1M shop orders: the MERGE 9–11 s and the builds 4 s instead of a MERGE of 20 s
    // (docs/BENCHMARKS.md, "Shop snapshot (issue 23)").
    public static async Task<bool> DeferOrdersIfNoShopOrdersAsync(NpgsqlDataSource dataSource, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await DeferAsync(connection, MayDeferOrdersSql, RecordOrdersIndexesSql, ct);
    }

    private static async Task<bool> DeferAsync(
        NpgsqlConnection connection, string maySql, string recordSql, CancellationToken ct, params (string Name, object? Value)[] parameters)
    {
        if (!await connection.ScalarAsync<bool>(maySql, ct))
            return false;

        await using var transaction = await connection.BeginTransactionAsync(ct);
        await connection.LockForTransactionAsync(transaction, AdvisoryLockKeys.DeferredIndexes, ct);
        var dropped = await connection.QueryAsync(recordSql, transaction, r => r.GetString(0), ct, parameters);
        // Index names from the catalog, quoted by format('%I.%I').
        if (dropped.Count > 0)
            await connection.ExecuteAsync($"DROP INDEX {string.Join(", ", dropped)}", transaction, ct);
        var rebuild = await connection.ScalarAsync<bool>(AnyWaitingSql, transaction, ct);
        await transaction.CommitAsync(ct);
        return rebuild;
    }

    private static async Task RebuildAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await BuildWaitingAsync(connection, transaction, ct);
        await transaction.CommitAsync(ct);
    }

    // Builds every deferred index (whichever run deferred it), in the caller's transaction with
    // the removal of its definition.
    public static async Task BuildWaitingAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
    {
        await connection.LockForTransactionAsync(transaction, AdvisoryLockKeys.DeferredIndexes, ct);
        await connection.ExecuteAsync(BuildSettingsSql, transaction, ct);
        var definitions = await connection.QueryAsync(DefinitionsSql, transaction, r => r.GetString(0), ct);
        // pg_get_indexdef's "CREATE INDEX name ON …": an index someone already rebuilt stays.
        var builds = definitions.Select(d => "CREATE INDEX IF NOT EXISTS " + d["CREATE INDEX ".Length..]);
        await connection.ExecuteAsync(string.Join(";\n", [.. builds, "DELETE FROM deferred_indexes"]), transaction, ct);
    }
}
