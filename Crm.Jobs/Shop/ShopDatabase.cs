using Npgsql;

namespace Crm.Jobs.Shop;

// The follower cannot work with the shop's database as configured: a one-line reason an
// operator can act on (state `failed`). Connection errors are not this: they are retried.
public sealed class ShopSetupException(string message) : Exception(message);

// What the follower asks of the shop's database over an ordinary connection: checks,
// the publication, the slot's existence and lag. Never a write to the shop's tables.
public static class ShopDatabase
{
    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"") + "\"";

    public static string QuotedTable(ShopOptions options) =>
        $"{Quote(options.QualifiedTable.Schema)}.{Quote(options.QualifiedTable.Name)}";

    // wal_level, the table and its mapped columns, and the replication privilege.
    public static async Task CheckAsync(NpgsqlConnection shop, ShopOptions options, CancellationToken ct)
    {
        var walLevel = await ScalarAsync<string>(shop, "SHOW wal_level", ct);
        if (walLevel != "logical")
            throw new ShopSetupException(
                $"The shop's database has wal_level = {walLevel}; logical replication needs wal_level = logical (a server restart).");

        var (schema, name) = options.QualifiedTable;
        await using (var command = new NpgsqlCommand("""
            SELECT a.attname FROM pg_attribute a
            JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = @schema AND c.relname = @name AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
            """, shop))
        {
            command.Parameters.AddWithValue("schema", schema);
            command.Parameters.AddWithValue("name", name);
            var columns = new HashSet<string>(StringComparer.Ordinal);
            await using (var reader = await command.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                    columns.Add(reader.GetString(0));
            }
            if (columns.Count == 0)
                throw new ShopSetupException($"The shop's table {options.Table} (Crm:Shop:Table) does not exist.");
            var missing = Enum.GetValues<ShopField>().Where(f => !columns.Contains(options.Columns.InFieldOrder()[(int)f])).ToList();
            if (missing.Count > 0)
                throw new ShopSetupException(MissingColumns(options, missing));
        }

        // Without one, publishing the table would make the shop's own UPDATEs and DELETEs fail.
        await using (var identity = new NpgsqlCommand("""
            SELECT c.relreplident = 'f' OR (c.relreplident = 'i' AND EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisreplident))
                OR (c.relreplident = 'd' AND EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary))
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = @schema AND c.relname = @name
            """, shop))
        {
            identity.Parameters.AddWithValue("schema", schema);
            identity.Parameters.AddWithValue("name", name);
            if (!(bool)(await identity.ExecuteScalarAsync(ct))!)
                throw new ShopSetupException(
                    $"The shop's table {options.Table} has no replica identity (no primary key): publishing it would make its updates and deletes fail.");
        }

        var canReplicate = await ScalarAsync<bool>(shop,
            "SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user", ct);
        if (!canReplicate)
            throw new ShopSetupException(
                "The shop's database user has no REPLICATION privilege (ALTER ROLE ... WITH REPLICATION).");
    }

    public static string MissingColumns(ShopOptions options, IEnumerable<ShopField> fields) =>
        $"The shop's table {options.Table} has no column " +
        string.Join(", ", fields.Select(f => $"{options.Columns.InFieldOrder()[(int)f]} (Crm:Shop:Columns:{f})")) + ".";

    // Creates the publication unless it exists; true when this call created it. An existing
    // one must publish the table (a DBA may have created it FOR ALL TABLES or for this table).
    public static async Task<bool> EnsurePublicationAsync(NpgsqlConnection shop, ShopOptions options, CancellationToken ct)
    {
        var (schema, name) = options.QualifiedTable;
        await using var exists = new NpgsqlCommand("SELECT count(*) FROM pg_publication WHERE pubname = @publication", shop);
        exists.Parameters.AddWithValue("publication", options.Publication);
        if ((long)(await exists.ExecuteScalarAsync(ct))! == 0)
        {
            try
            {
                await using var create = new NpgsqlCommand(
                    $"CREATE PUBLICATION {Quote(options.Publication)} FOR TABLE {QuotedTable(options)}", shop);
                await create.ExecuteNonQueryAsync(ct);
                return true;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
            {
                throw new ShopSetupException(
                    $"Cannot create publication {options.Publication}: {e.MessageText}. Create it as the table's owner (see docs/SHOP.md).");
            }
        }

        await using var publishes = new NpgsqlCommand("""
            SELECT count(*) FROM pg_publication_tables
            WHERE pubname = @publication AND schemaname = @schema AND tablename = @name
            """, shop);
        publishes.Parameters.AddWithValue("publication", options.Publication);
        publishes.Parameters.AddWithValue("schema", schema);
        publishes.Parameters.AddWithValue("name", name);
        if ((long)(await publishes.ExecuteScalarAsync(ct))! == 0)
            throw new ShopSetupException($"Publication {options.Publication} exists but does not publish {options.Table}.");
        return false;
    }

    public static async Task<bool> SlotExistsAsync(NpgsqlConnection shop, string slot, CancellationToken ct) =>
        await SlotWalStatusAsync(shop, slot, ct) is not null;

    // null: no such slot; "lost": max_slot_wal_keep_size removed WAL it needed (it can never stream again).
    public static async Task<string?> SlotWalStatusAsync(NpgsqlConnection shop, string slot, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("SELECT coalesce(wal_status, '') FROM pg_replication_slots WHERE slot_name = @slot", shop);
        command.Parameters.AddWithValue("slot", slot);
        return await command.ExecuteScalarAsync(ct) as string;
    }

    // WAL the shop keeps for the slot: from what we confirmed to the shop's current position.
    public static async Task<long?> LagBytesAsync(NpgsqlConnection shop, string slot, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("""
            SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint
            FROM pg_replication_slots WHERE slot_name = @slot
            """, shop);
        command.Parameters.AddWithValue("slot", slot);
        return await command.ExecuteScalarAsync(ct) is long lag ? lag : null;
    }

    // shop-unfollow: the slot (an active one is refused, by name), and the publication when ours.
    public static async Task<(bool SlotDropped, bool PublicationDropped)> UnfollowAsync(
        NpgsqlConnection shop, ShopOptions options, bool dropPublication, CancellationToken ct)
    {
        var slotDropped = false;
        if (await SlotExistsAsync(shop, options.Slot, ct))
        {
            await using var drop = new NpgsqlCommand("SELECT pg_drop_replication_slot(@slot)", shop);
            drop.Parameters.AddWithValue("slot", options.Slot);
            await drop.ExecuteNonQueryAsync(ct);
            slotDropped = true;
        }
        if (dropPublication)
        {
            await using var drop = new NpgsqlCommand($"DROP PUBLICATION IF EXISTS {Quote(options.Publication)}", shop);
            await drop.ExecuteNonQueryAsync(ct);
        }
        return (slotDropped, dropPublication);
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync(ct))!;
    }
}
