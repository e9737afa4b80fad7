using System.Collections.Concurrent;
using Crm.Jobs.Data;
using Crm.Jobs.Orders;
using Npgsql;

namespace Crm.Jobs.Shop;

// What the follower asks of the shop's database over an ordinary connection: checks,
// the publication, the slot's existence, lag and retained WAL. Never a write to the shop's tables.
public static class ShopDatabase
{
    // One data source per shop connection string, named "shop": a pool opened from the bare
    // string would be named by it (host, database, user) in /metrics (CrmDataSources).
    private static readonly ConcurrentDictionary<string, NpgsqlDataSource> Sources = new();

    public static NpgsqlConnection CreateConnection(ShopOptions options)
    {
        var connectionString = options.ConnectionString ?? throw new InvalidOperationException("Crm:Shop:ConnectionString is not set.");
        return Sources.GetOrAdd(connectionString, s => CrmDataSources.Create(s, CrmDataSources.ShopPool)).CreateConnection();
    }

    // Logical decoding needs it; changing it needs the shop's server restarted.
    private const string WalLevelSql = "SHOW wal_level";

    // The table's live columns, to name every mapped one that is missing at once.
    private const string ColumnsSql = """
        SELECT a.attname FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = @schema AND c.relname = @name AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
        """;

    // Without one, publishing the table would make the shop's own UPDATEs and DELETEs fail.
    private const string HasReplicaIdentitySql = """
        SELECT c.relreplident = 'f' OR (c.relreplident = 'i' AND EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisreplident))
            OR (c.relreplident = 'd' AND EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary))
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = @schema AND c.relname = @name
        """;

    // A replication connection and the slot need the REPLICATION attribute (or a superuser).
    private const string CanReplicateSql = "SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user";

    // A DBA may have created the publication already (FOR ALL TABLES or for this table).
    private const string PublicationExistsSql = "SELECT count(*) FROM pg_publication WHERE pubname = @publication";

    // An existing publication is only usable when it publishes the table.
    private const string PublishesTableSql = """
        SELECT count(*) FROM pg_publication_tables
        WHERE pubname = @publication AND schemaname = @schema AND tablename = @name
        """;

    // '' when the server does not say; "lost" once max_slot_wal_keep_size removed WAL the slot needs.
    private const string SlotWalStatusSql = "SELECT coalesce(wal_status, '') FROM pg_replication_slots WHERE slot_name = @slot";

    // WAL the shop keeps for the slot: from what we confirmed to the shop's current position.
    private const string LagBytesSql = """
        SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint
        FROM pg_replication_slots WHERE slot_name = @slot
        """;

    // WAL the shop keeps for the slot whatever its consumer does: from restart_lsn (the oldest
    // WAL decoding may still read, behind confirmed_flush_lsn) to the current position; with
    // the server's limit (max_slot_wal_keep_size, in MB, -1 = none). No slot: NULLs and the limit.
    private const string RetainedWalSql = """
        SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)::bigint, s.wal_status, s.safe_wal_size,
               CASE WHEN k.setting::bigint < 0 THEN -1 ELSE k.setting::bigint * 1024 * 1024 END
        FROM pg_settings k LEFT JOIN pg_replication_slots s ON s.slot_name = @slot
        WHERE k.name = 'max_slot_wal_keep_size'
        """;

    // The server refuses to drop a slot a consumer is using: an unfollow never cuts a live follower off.
    private const string DropSlotSql = "SELECT pg_drop_replication_slot(@slot)";

    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"") + "\"";

    public static string QuotedTable(ShopOptions options) =>
        $"{Quote(options.QualifiedTable.Schema)}.{Quote(options.QualifiedTable.Name)}";

    // wal_level, the table and its mapped columns, and the replication privilege.
    public static async Task CheckAsync(NpgsqlConnection shop, ShopOptions options, CancellationToken ct)
    {
        var walLevel = await shop.ScalarAsync<string>(WalLevelSql, ct);
        if (walLevel != "logical")
            throw new ShopSetupException(
                $"The shop's database has wal_level = {walLevel}; logical replication needs wal_level = logical (a server restart).");

        var (schema, name) = options.QualifiedTable;
        var columns = (await shop.QueryAsync(ColumnsSql, null, r => r.GetString(0), ct, ("schema", schema), ("name", name)))
            .ToHashSet(StringComparer.Ordinal);
        if (columns.Count == 0)
            throw new ShopSetupException($"The shop's table {options.Table} (Crm:Shop:Table) does not exist.");
        var missing = Enum.GetValues<OrderField>().Where(f => !columns.Contains(options.Columns.InFieldOrder()[(int)f])).ToList();
        if (missing.Count > 0)
            throw new ShopSetupException(MissingColumns(options, missing));

        if (!await shop.ScalarAsync<bool>(HasReplicaIdentitySql, ct, ("schema", schema), ("name", name)))
            throw new ShopSetupException(
                $"The shop's table {options.Table} has no replica identity (no primary key): publishing it would make its updates and deletes fail.");

        if (!await shop.ScalarAsync<bool>(CanReplicateSql, ct))
            throw new ShopSetupException(
                "The shop's database user has no REPLICATION privilege (ALTER ROLE ... WITH REPLICATION).");
    }

    public static string MissingColumns(ShopOptions options, IEnumerable<OrderField> fields) =>
        $"The shop's table {options.Table} has no column " +
        string.Join(", ", fields.Select(f => $"{options.Columns.InFieldOrder()[(int)f]} (Crm:Shop:Columns:{f})")) + ".";

    // The snapshot's copy of the shop's table: the mapped columns as text, in OrderField order
    // (the order ShopRows reads a row's values in).
    public static string ExportSql(ShopOptions options)
    {
        var columns = string.Join(", ", options.Columns.InFieldOrder().Select(c => $"{Quote(c)}::text"));
        return $"COPY (SELECT {columns} FROM {QuotedTable(options)}) TO STDOUT (FORMAT BINARY)";
    }

    // Creates the publication unless it exists; true when this call created it. An existing
    // one must publish the table (a DBA may have created it FOR ALL TABLES or for this table).
    public static async Task<bool> EnsurePublicationAsync(NpgsqlConnection shop, ShopOptions options, CancellationToken ct)
    {
        var (schema, name) = options.QualifiedTable;
        if (await shop.ScalarAsync<long>(PublicationExistsSql, ct, ("publication", options.Publication)) == 0)
        {
            try
            {
                await shop.ExecuteAsync($"CREATE PUBLICATION {Quote(options.Publication)} FOR TABLE {QuotedTable(options)}", ct);
                return true;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
            {
                throw new ShopSetupException(
                    $"Cannot create publication {options.Publication}: {e.MessageText}. Create it as the table's owner (see docs/SHOP.md).");
            }
        }

        var publishes = await shop.ScalarAsync<long>(PublishesTableSql, ct,
            ("publication", options.Publication), ("schema", schema), ("name", name));
        if (publishes == 0)
            throw new ShopSetupException($"Publication {options.Publication} exists but does not publish {options.Table}.");
        return false;
    }

    public static async Task<bool> SlotExistsAsync(NpgsqlConnection shop, string slot, CancellationToken ct) =>
        await SlotWalStatusAsync(shop, slot, ct) is not null;

    // null: no such slot; "lost": max_slot_wal_keep_size removed WAL it needed (it can never stream again).
    public static Task<string?> SlotWalStatusAsync(NpgsqlConnection shop, string slot, CancellationToken ct) =>
        shop.ScalarAsync<string>(SlotWalStatusSql, ct, ("slot", slot));

    // WAL the shop keeps for the slot: from what we confirmed to the shop's current position.
    public static Task<long?> LagBytesAsync(NpgsqlConnection shop, string slot, CancellationToken ct) =>
        shop.ScalarAsync<long?>(LagBytesSql, ct, ("slot", slot));

    // Over an ordinary connection, in any state of the follower (PostgreSQL 13+).
    public static async Task<ShopSlotWal> RetainedWalAsync(NpgsqlConnection shop, string slot, CancellationToken ct) =>
        (await shop.QueryAsync(RetainedWalSql, null, r => new ShopSlotWal(
            r.IsDBNull(0) ? null : r.GetInt64(0), r.IsDBNull(1) ? null : r.GetString(1),
            r.IsDBNull(2) ? null : r.GetInt64(2), r.GetInt64(3)), ct, ("slot", slot))).Single();

    // shop-unfollow: the slot (an active one is refused, by name), and the publication when ours.
    public static async Task<(bool SlotDropped, bool PublicationDropped)> UnfollowAsync(
        NpgsqlConnection shop, ShopOptions options, bool dropPublication, CancellationToken ct)
    {
        var slotDropped = false;
        if (await SlotExistsAsync(shop, options.Slot, ct))
        {
            await shop.ExecuteAsync(DropSlotSql, ct, ("slot", options.Slot));
            slotDropped = true;
        }
        if (dropPublication)
            await shop.ExecuteAsync($"DROP PUBLICATION IF EXISTS {Quote(options.Publication)}", ct);
        return (slotDropped, dropPublication);
    }
}
