using Crm.Jobs.Data;
using Crm.Jobs.Orders;
using Crm.Jobs.Privacy;
using Crm.Jobs.Sync;
using Npgsql;
using NpgsqlTypes;

namespace Crm.Jobs.Shop;

// The changes of one shop transaction (or of the snapshot), applied to orders in one CRM
// transaction: staged by binary COPY into a temporary table, then one MERGE. The customers
// of every phone involved (before and after) get their sync requests in the same
// transaction, so they become exact through the shared pending-writes job.
// A shop transaction is held in memory one slice at a time (Crm:Shop:StageSliceRows changes
// and rejections): a full slice is staged in the CRM transaction, which stays open until
// the shop transaction's commit applies everything staged.
public sealed class ShopBatch(int sliceRows)
{
    // The last change of each shop order in this slice wins: null = deleted.
    private readonly Dictionary<string, ShopOrder?> _changes = new(StringComparer.Ordinal);
    private readonly List<(string ShopId, string Reason)> _rejections = [];

    // What earlier slices of this shop transaction left in shop_incoming.
    private int _slices;
    private long _staged;
    private long _stagedRejections;
    private bool _truncatedSinceStaged;

    public bool Truncated { get; private set; }
    public long Inserts { get; private set; }
    public long Updates { get; private set; }
    public long Deletes { get; private set; }

    // Rows staged or held: a big batch's staged table is worth an ANALYZE.
    public long Count => _staged + _changes.Count + _rejections.Count;
    public bool IsEmpty => Count == 0 && !Truncated;
    public bool SliceFull => _changes.Count + _rejections.Count >= sliceRows;

    public void Upsert(ShopOrder order, bool isUpdate)
    {
        _changes[order.ShopId] = order;
        if (isUpdate) Updates++; else Inserts++;
    }

    public void Delete(string shopId)
    {
        _changes[shopId] = null;
        Deletes++;
    }

    public void Reject(string shopId, string reason) => _rejections.Add((ShopRows.ShopId(shopId), reason));

    // TRUNCATE of the shop's table: every shop order goes (those staged by earlier slices
    // too, at the next staging), then what follows in the transaction applies. Rejections stay.
    public void Truncate()
    {
        _changes.Clear();
        _truncatedSinceStaged = true;
        Truncated = true;
        Deletes++;
    }

    // A new shop transaction; the CRM transaction that staged the previous one has ended,
    // and shop_incoming with it.
    public void Clear()
    {
        _changes.Clear();
        _rejections.Clear();
        _slices = 0;
        _staged = _stagedRejections = 0;
        _truncatedSinceStaged = Truncated = false;
        Inserts = Updates = Deletes = 0;
    }

    // Created once per session and emptied by every commit: each batch of a connection reuses it.
    // seq is the staging order: of the changes of one shop order in several slices, the last wins.
    public const string CreateStagingSql = """
        CREATE TEMP TABLE IF NOT EXISTS shop_incoming (
            seq bigint GENERATED ALWAYS AS IDENTITY,
            op "char" NOT NULL,            -- u: insert or update, d: delete, r: rejected (kept as is)
            source_id varchar(100) NOT NULL,
            customer_name text, customer_phone text, normalized_phone text, customer_email text,
            delivery_city text, delivery_address text, keep_address boolean,
            total_amount numeric(12, 2), status text, created_at timestamptz,
            reason text                    -- why the stream rejected the row (op r)
        ) ON COMMIT DELETE ROWS
        """;

    // Binary COPY: the snapshot stages the shop's whole table through it.
    public const string CopySql = """
        COPY shop_incoming (op, source_id, customer_name, customer_phone, normalized_phone, customer_email,
                            delivery_city, delivery_address, keep_address, total_amount, status, created_at)
        FROM STDIN (FORMAT BINARY)
        """;

    private static readonly string Shop = EnumText.ToText(OrderSource.Shop);

    // The phones whose customers change: the stored orders' (a phone may have changed or
    // the order gone) and the incoming ones. Runs before the MERGE, which changes the former.
    internal static readonly string RecordSql = SyncScheduler.RecordSqlFor($"""
        SELECT o.normalized_phone FROM shop_incoming i
        JOIN orders o ON o.source = '{Shop}' AND o.source_id IS NOT NULL AND o.source_id = i.source_id
        WHERE i.op IN ('u', 'd')
        UNION ALL
        SELECT normalized_phone FROM shop_incoming WHERE op = 'u'
        """);

    // A replayed change that alters nothing leaves the row (and its updated_at) alone.
    internal static readonly string MergeSql = $"""
        MERGE INTO orders o
        USING shop_incoming i ON o.source = '{Shop}' AND o.source_id IS NOT NULL AND o.source_id = i.source_id
        WHEN MATCHED AND i.op = 'd' THEN DELETE
        WHEN MATCHED AND i.op = 'u' AND (o.customer_name, o.customer_phone, o.normalized_phone, o.customer_email,
                o.delivery_city, o.delivery_address, o.total_amount, o.status, o.created_at)
            IS DISTINCT FROM (i.customer_name, i.customer_phone, i.normalized_phone, i.customer_email, i.delivery_city,
                CASE WHEN i.keep_address THEN o.delivery_address ELSE i.delivery_address END,
                i.total_amount, i.status, i.created_at) THEN
            UPDATE SET customer_name = i.customer_name, customer_phone = i.customer_phone,
                normalized_phone = i.normalized_phone, customer_email = i.customer_email, delivery_city = i.delivery_city,
                delivery_address = CASE WHEN i.keep_address THEN o.delivery_address ELSE i.delivery_address END,
                total_amount = i.total_amount, status = i.status, created_at = i.created_at, updated_at = now()
        WHEN NOT MATCHED AND i.op = 'u' THEN
            INSERT (customer_name, customer_phone, normalized_phone, customer_email, delivery_city, delivery_address,
                    total_amount, status, created_at, updated_at, source, source_id)
            VALUES (i.customer_name, i.customer_phone, i.normalized_phone, i.customer_email, i.delivery_city,
                    coalesce(i.delivery_address, ''), i.total_amount, i.status, i.created_at, now(), '{Shop}', i.source_id)
        """;

    // Shop orders the snapshot no longer has (deleted while no slot recorded it): gone here too.
    public static readonly string MissingFromSnapshotSql = $"""
        INSERT INTO shop_incoming (op, source_id)
        SELECT 'd', o.source_id FROM orders o
        WHERE o.source = '{Shop}' AND o.source_id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM shop_incoming i WHERE i.source_id = o.source_id)
        """;

    // TRUNCATE: the customers of every shop order need a sync, then every shop order goes.
    private static readonly string TruncateSql = SyncScheduler.RecordSqlFor(
        $"SELECT normalized_phone FROM orders WHERE source = '{Shop}'") + $";\nDELETE FROM orders WHERE source = '{Shop}'";

    // A temporary table has no statistics: without them a big batch would be planned as a tiny one.
    private const string AnalyzeSql = "ANALYZE shop_incoming";

    // ON CONFLICT: a replayed shop transaction (same lsn) records nothing twice. The lsn comes as
    // text (Db types a parameter by its value; Npgsql writes an NpgsqlLogSequenceNumber only
    // when told its type).
    private const string RecordRejectionsSql = """
        INSERT INTO shop_rejections (shop_id, reason, lsn, rejected_at)
        SELECT shop_id, reason, @lsn::pg_lsn, now() FROM unnest(@ids, @reasons) AS r(shop_id, reason)
        ON CONFLICT (lsn, shop_id) DO NOTHING
        """;

    // The stream's rejections, staged with its changes.
    private const string RecordStagedRejectionsSql = """
        INSERT INTO shop_rejections (shop_id, reason, lsn, rejected_at)
        SELECT source_id, reason, @lsn::pg_lsn, now() FROM shop_incoming WHERE op = 'r' ORDER BY seq
        ON CONFLICT (lsn, shop_id) DO NOTHING
        """;

    private const string CopyRejectionsSql = "COPY shop_incoming (op, source_id, reason) FROM STDIN (FORMAT BINARY)";

    // A TRUNCATE after some slices were staged: their changes are void, their rejections stay.
    private const string DropStagedChangesSql = "DELETE FROM shop_incoming WHERE op IN ('u', 'd')";

    // Of a shop order changed in several slices only the last change stays: MERGE touches a row once.
    private const string KeepLastChangeSql = """
        DELETE FROM shop_incoming i
        USING (SELECT source_id, max(seq) AS last FROM shop_incoming WHERE op IN ('u', 'd')
               GROUP BY source_id HAVING count(*) > 1) l
        WHERE i.op IN ('u', 'd') AND i.source_id = l.source_id AND i.seq < l.last
        """;

    // Stages the slice held in memory (the stream's path; the snapshot stages its rows as it
    // reads them, rejected ones as 'r' so that they do not count as missing from the copy),
    // inside the caller's transaction, and forgets it.
    public async Task StageAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
    {
        if (_slices == 0)
            await connection.ExecuteAsync(CreateStagingSql, transaction, ct);
        else if (_truncatedSinceStaged)
            await connection.ExecuteAsync(DropStagedChangesSql, transaction, ct);
        _truncatedSinceStaged = false;

        await using (var copy = await connection.BeginBinaryImportAsync(CopySql, ct))
        {
            foreach (var (shopId, order) in _changes)
            {
                if (order is null)
                    await WriteDeleteAsync(copy, shopId, ct);
                else
                    await WriteAsync(copy, order, ct);
            }
            await copy.CompleteAsync(ct);
        }
        // A rejected change leaves the stored order as it is: its row only says why, for the commit.
        if (_rejections.Count > 0)
        {
            await using var copy = await connection.BeginBinaryImportAsync(CopyRejectionsSql, ct);
            foreach (var (shopId, reason) in _rejections)
            {
                await copy.StartRowAsync(ct);
                await copy.WriteAsync('r', NpgsqlDbType.InternalChar, ct);
                await copy.WriteAsync(shopId, NpgsqlDbType.Varchar, ct);
                await copy.WriteAsync(reason, NpgsqlDbType.Text, ct);
            }
            await copy.CompleteAsync(ct);
        }
        _slices++;
        _staged += _changes.Count + _rejections.Count;
        _stagedRejections += _rejections.Count;
        _changes.Clear();
        _rejections.Clear();
    }

    // At the shop transaction's commit: the last slice, then one change per shop order.
    public async Task StageLastAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
    {
        await StageAsync(connection, transaction, ct);
        if (_slices > 1)
            await connection.ExecuteAsync(KeepLastChangeSql, transaction, ct);
    }

    public static async Task WriteAsync(NpgsqlBinaryImporter copy, ShopOrder row, CancellationToken ct)
    {
        var order = row.Order;
        await copy.StartRowAsync(ct);
        await copy.WriteAsync('u', NpgsqlDbType.InternalChar, ct);
        await copy.WriteAsync(row.ShopId, NpgsqlDbType.Varchar, ct);
        // The text columns of orders are NOT NULL DEFAULT '': a missing value is stored as ''.
        await copy.WriteAsync(order.CustomerName ?? "", NpgsqlDbType.Text, ct);
        await copy.WriteAsync(order.CustomerPhone ?? "", NpgsqlDbType.Text, ct);
        await WriteNullableAsync(copy, row.NormalizedPhone, ct);
        await copy.WriteAsync(order.CustomerEmail ?? "", NpgsqlDbType.Text, ct);
        await copy.WriteAsync(order.DeliveryCity ?? "", NpgsqlDbType.Text, ct);
        await copy.WriteAsync(order.DeliveryAddress ?? "", NpgsqlDbType.Text, ct);
        await copy.WriteAsync(row.AddressUnchanged, NpgsqlDbType.Boolean, ct);
        await copy.WriteAsync(order.TotalAmount!.Value, NpgsqlDbType.Numeric, ct);
        await copy.WriteAsync(OrderText.StatusTexts[order.Status!.Value], NpgsqlDbType.Text, ct);
        await copy.WriteAsync(order.CreatedAt!.Value.UtcDateTime, NpgsqlDbType.TimestampTz, ct);
    }

    public static Task WriteDeleteAsync(NpgsqlBinaryImporter copy, string shopId, CancellationToken ct) =>
        WriteKeyAsync(copy, 'd', shopId, ct);

    public static Task WriteRejectedAsync(NpgsqlBinaryImporter copy, string shopId, CancellationToken ct) =>
        WriteKeyAsync(copy, 'r', shopId, ct);

    private static async Task WriteKeyAsync(NpgsqlBinaryImporter copy, char op, string shopId, CancellationToken ct)
    {
        await copy.StartRowAsync(ct);
        await copy.WriteAsync(op, NpgsqlDbType.InternalChar, ct);
        await copy.WriteAsync(shopId, NpgsqlDbType.Varchar, ct);
        for (var i = 0; i < 10; i++)
            await copy.WriteNullAsync(ct);
    }

    private static async Task WriteNullableAsync(NpgsqlBinaryImporter copy, string? value, CancellationToken ct)
    {
        if (value is null)
            await copy.WriteNullAsync(ct);
        else
            await copy.WriteAsync(value, NpgsqlDbType.Text, ct);
    }

    // Orders of erased people from before their erase (docs/PRIVACY.md#erase-that-sticks),
    // inserts or updates alike, become deletes: never stored, and no sync request is recorded
    // for their phone.
    private const string SkipErasedSql = """
        UPDATE shop_incoming i SET op = 'd'
        FROM unnest(@phones::text[], @erased_at::timestamptz[]) AS e(phone, erased_at)
        WHERE i.op = 'u' AND i.normalized_phone = e.phone AND i.created_at <= e.erased_at
        """;

    // Applies what is staged in shop_incoming (plus a truncate, rejections) inside the
    // caller's transaction. Returns whether any customer needs a sync, and how many staged
    // orders belonged to erased people.
    public static async Task<(bool SyncRequested, int SkippedErased)> ApplyStagedAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, ErasedPhones erasedPhones, bool truncated, bool analyze,
        CancellationToken ct)
    {
        var requested = truncated && await AnyRowAsync(connection, transaction, TruncateSql, ct);
        if (analyze)
            await connection.ExecuteAsync(AnalyzeSql, transaction, ct);
        var skipped = await SkipErasedAsync(connection, transaction, erasedPhones, ct);
        requested |= await AnyRowAsync(connection, transaction, RecordSql, ct);
        await connection.ExecuteAsync(MergeSql, transaction, ct);
        return (requested, skipped);
    }

    // The staged phones, read through a cursor a page at a time: a big batch's phones are never all in memory.
    private const string DeclareStagedPhonesSql = """
        DECLARE staged_phones NO SCROLL CURSOR FOR
        SELECT DISTINCT normalized_phone FROM shop_incoming WHERE op = 'u' AND normalized_phone IS NOT NULL
        """;

    private const string FetchStagedPhonesSql = "FETCH 10000 FROM staged_phones";

    // Only the staged phones are hashed and looked up, and only while some tombstone exists.
    private static async Task<int> SkipErasedAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, ErasedPhones erasedPhones, CancellationToken ct)
    {
        if (!await erasedPhones.LockOrdersAsync(connection, transaction, ct))
            return 0;
        var erased = new Dictionary<string, DateTime>(StringComparer.Ordinal);
        await connection.ExecuteAsync(DeclareStagedPhonesSql, transaction, ct);
        while (await connection.QueryAsync(FetchStagedPhonesSql, transaction, r => r.GetString(0), ct) is { Count: > 0 } staged)
        {
            foreach (var (phone, erasedAt) in await erasedPhones.FindAsync(connection, transaction, staged, ct))
                erased[phone] = erasedAt;
        }
        await connection.ExecuteAsync("CLOSE staged_phones", transaction, ct);
        if (erased.Count == 0)
            return 0;
        return await connection.ExecuteAsync(SkipErasedSql, transaction, ct,
            ("phones", erased.Keys.ToArray()), ("erased_at", erased.Values.ToArray()));
    }

    // Rejections, once per (transaction, shop id) however often the transaction is replayed.
    public async Task<long> RecordRejectionsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, NpgsqlLogSequenceNumber lsn, CancellationToken ct) =>
        _stagedRejections == 0 ? 0 : await connection.ExecuteAsync(RecordStagedRejectionsSql, transaction, ct, ("lsn", lsn.ToString()));

    public static async Task<long> RecordRejectionsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        IReadOnlyList<(string ShopId, string Reason)> rejections, NpgsqlLogSequenceNumber lsn, CancellationToken ct) =>
        await connection.ExecuteAsync(RecordRejectionsSql, transaction, ct,
            ("lsn", lsn.ToString()), ("ids", rejections.Select(r => r.ShopId).ToArray()), ("reasons", rejections.Select(r => r.Reason).ToArray()));

    // Whether sql returns a row. Every statement's result is read (TruncateSql has two),
    // which Db.QueryAsync does not do.
    private static async Task<bool> AnyRowAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken ct)
    {
        await using var command = connection.Command(sql, transaction);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var any = false;
        do
        {
            while (await reader.ReadAsync(ct))
                any = true;
        }
        while (await reader.NextResultAsync(ct));
        return any;
    }
}
