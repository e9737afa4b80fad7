using System.Data;
using Crm.Jobs.Data;
using Crm.Jobs.Hosting;
using Crm.Jobs.Orders;
using Crm.Jobs.Privacy;
using Crm.Jobs.Sync;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace Crm.Jobs.Shop;

// The copy of the shop's table as of the slot's exported snapshot (the first start, or a start
// that finds the slot gone): binary COPY out of the shop, each row checked (ShopRows), in one
// CRM transaction that also records the position the stream starts from. While orders holds
// no shop order (the first start) the checked rows are copied straight into orders; otherwise
// into shop_incoming and from there one MERGE into orders (which also deletes the shop orders
// the copy no longer has). Into orders without shop orders the secondary indexes are built
// once after the copy instead of kept up row by row (DeferredIndexes).
internal sealed class ShopSnapshot(
    ShopOptions options, ShopFollowerStateStore state, NpgsqlDataSource jobsDataSource, ErasedPhones erasedPhones,
    CrmMetrics metrics, ILogger logger)
{
    // The whole table's phones pass by once each per order: a cache smaller than their number
    // parses every row's phone again (1M orders over 200 000 phones: about 13 µs a row). At
    // most about 70 MB, only while the snapshot runs.
    public const int CachedPhones = 500_000;

    private static readonly string Shop = EnumText.ToText(OrderSource.Shop);

    // Read in the snapshot's transaction: only this follower writes shop orders.
    private static readonly string AnyShopOrderSql =
        $"SELECT EXISTS (SELECT 1 FROM orders WHERE source = '{Shop}' AND source_id IS NOT NULL)";

    // The direct path: updated_at takes its default, now(), as the MERGE's insert sets it.
    private const string CopyIntoOrdersSql = """
        COPY orders (source, source_id, customer_name, customer_phone, normalized_phone, customer_email,
                     delivery_city, delivery_address, total_amount, status, created_at)
        FROM STDIN (FORMAT BINARY)
        """;

    // Returns what the customers need, for the caller to queue after the commit.
    public async Task<ShopSnapshotSync> CopyAsync(NpgsqlConnection crm, ShopRows rows, ShopSnapshotHeartbeat heartbeat,
        string snapshotName, NpgsqlLogSequenceNumber consistentPoint, CancellationToken ct)
    {
        var rejections = new List<(string ShopId, string Reason)>();
        long read = 0, valid = 0, skippedErased = 0;

        await using var shop = ShopDatabase.CreateConnection(options);
        await shop.OpenAsync(ct);
        await using var shopTransaction = await shop.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
        // The shop's rows exactly as of the slot's creation: the stream starts where they end.
        await shop.ExecuteAsync($"SET TRANSACTION SNAPSHOT '{snapshotName.Replace("'", "''")}'", ct);

        // Before the snapshot's transaction touches orders: the drop waits for every lock on it.
        var buildIndexes = await DeferredIndexes.DeferOrdersIfNoShopOrdersAsync(jobsDataSource, ct);
        await using var transaction = await crm.BeginTransactionAsync(ct);
        var direct = !await crm.ScalarAsync<bool>(AnyShopOrderSql, transaction, ct);
        // The direct path skips an erased person's orders as it copies (the MERGE path, in shop_incoming).
        var erased = direct ? await erasedPhones.LoadAsync(crm, transaction, ct) : null;
        if (!direct)
            await crm.ExecuteAsync(ShopBatch.CreateStagingSql, transaction, ct);
        await using (var export = await BeginExportAsync(shop, ct))
        await using (var copy = await crm.BeginBinaryImportAsync(direct ? CopyIntoOrdersSql : ShopBatch.CopySql, ct))
        {
            var values = new string?[Enum.GetValues<OrderField>().Length];
            while (await export.StartRowAsync(ct) != -1)
            {
                for (var i = 0; i < values.Length; i++)
                    values[i] = export.IsNull ? await SkipNullAsync(export, ct) : await export.ReadAsync<string>(ct);
                read++;
                if (rows.TryRead(values, addressUnchanged: false, out var order, out var reason))
                {
                    if (!direct)
                        await ShopBatch.WriteAsync(copy, order!, ct);
                    else if (erased!.Skips(order!.NormalizedPhone, order.Order.CreatedAt!.Value.UtcDateTime))
                        skippedErased++;
                    else
                        await WriteOrderAsync(copy, order, ct);
                    heartbeat.Progress(++valid);
                }
                else
                {
                    rejections.Add((ShopRows.ShopId(values[(int)OrderField.Id]), reason!));
                    // A rejected row keeps what this database had of it (it is not missing from the shop).
                    if (!direct && values[(int)OrderField.Id] is { Length: > 0 and <= ShopRows.ShopIdMaxLength } id)
                        await ShopBatch.WriteRejectedAsync(copy, id, ct);
                }
            }
            await copy.CompleteAsync(ct);
        }
        await shopTransaction.CommitAsync(ct);

        var sync = ShopSnapshotSync.None;
        if (!direct)
        {
            await crm.ExecuteAsync(ShopBatch.MissingFromSnapshotSql, transaction, ct);
            var (syncRequested, skipped) = await ShopBatch.ApplyStagedAsync(crm, transaction, erasedPhones, truncated: false, analyze: true, ct);
            skippedErased = skipped;
            sync = syncRequested ? ShopSnapshotSync.PendingWrites : ShopSnapshotSync.None;
        }
        // In this transaction: its commit shows the orders with their indexes, never without.
        if (buildIndexes)
            await DeferredIndexes.BuildWaitingAsync(crm, transaction, ct);
        var rejected = await ShopBatch.RecordRejectionsAsync(crm, transaction, rejections, consistentPoint, ct);
        // Stored: neither rejected nor an erased person's.
        var stored = valid - skippedErased;
        // Copied straight in, the whole table's customers need a sync: one full auto sync reads
        // every order once, where a request per phone cost a row each (2 000 000 rows took 18 s
        // of a 10M-order snapshot) and a pending sync of them the same full read after. Last
        // before the commit: it locks the row every order write's dispatch updates.
        if (direct && stored > 0)
        {
            await SyncScheduler.RequestFullSyncAsync(crm, transaction, ct);
            sync = ShopSnapshotSync.Full;
        }
        await heartbeat.StopAsync();
        await state.SnapshotAppliedAsync(crm, transaction, consistentPoint, stored, valid, rejected, ct);
        await transaction.CommitAsync(ct);
        // The shop's whole table just arrived: planned for at once (TableStatistics).
        await TableStatistics.AnalyzeIfManyChangedAsync(crm, "orders", valid, ct);

        metrics.ShopApplied("snapshot", valid);
        metrics.ShopRejected(rejected);
        metrics.ShopApplied("skipped_erased", skippedErased);
        logger.LogInformation("Shop snapshot applied ({Path}): {Rows} rows read, {Stored} stored, {Rejected} rejected, streaming from {Lsn}",
            direct ? "copied into orders" : "merged", read, stored, rejections.Count, consistentPoint);
        return sync;
    }

    // A checked row as orders stores it; the text columns are NOT NULL DEFAULT '' (as the MERGE's insert).
    private static async Task WriteOrderAsync(NpgsqlBinaryImporter copy, ShopOrder row, CancellationToken ct)
    {
        var order = row.Order;
        await copy.StartRowAsync(ct);
        await copy.WriteAsync(Shop, NpgsqlDbType.Varchar, ct);
        await copy.WriteAsync(row.ShopId, NpgsqlDbType.Varchar, ct);
        await copy.WriteAsync(order.CustomerName ?? "", NpgsqlDbType.Varchar, ct);
        await copy.WriteAsync(order.CustomerPhone ?? "", NpgsqlDbType.Varchar, ct);
        if (row.NormalizedPhone is null)
            await copy.WriteNullAsync(ct);
        else
            await copy.WriteAsync(row.NormalizedPhone, NpgsqlDbType.Varchar, ct);
        await copy.WriteAsync(order.CustomerEmail ?? "", NpgsqlDbType.Varchar, ct);
        await copy.WriteAsync(order.DeliveryCity ?? "", NpgsqlDbType.Varchar, ct);
        await copy.WriteAsync(order.DeliveryAddress ?? "", NpgsqlDbType.Varchar, ct);
        await copy.WriteAsync(order.TotalAmount!.Value, NpgsqlDbType.Numeric, ct);
        await copy.WriteAsync(OrderText.StatusTexts[order.Status!.Value], NpgsqlDbType.Varchar, ct);
        await copy.WriteAsync(order.CreatedAt!.Value.UtcDateTime, NpgsqlDbType.TimestampTz, ct);
    }

    // A role without the right to read the table, or (with row_security = off, as docs/SHOP.md
    // recommends) a row-level security policy in the way, is the setup's fault: retrying
    // cannot help, so the follower fails saying so instead of reconnecting for ever.
    private async Task<NpgsqlBinaryExporter> BeginExportAsync(NpgsqlConnection shop, CancellationToken ct)
    {
        try
        {
            return await shop.BeginBinaryExportAsync(ShopDatabase.ExportSql(options), ct);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            throw new ShopSetupException($"The follower's role may not read {options.Table} ({e.SqlState}: {e.MessageText}); see docs/SHOP.md.");
        }
    }

    private static async Task<string?> SkipNullAsync(NpgsqlBinaryExporter export, CancellationToken ct)
    {
        await export.SkipAsync(ct);
        return null;
    }
}
