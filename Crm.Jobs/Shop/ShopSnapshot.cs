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
// that finds the slot gone): binary COPY out of the shop, each row checked (ShopRows), binary
// COPY into shop_incoming, one MERGE into orders, in one CRM transaction that also records the
// position the stream starts from. Into orders without shop orders the secondary indexes are
// built once after the MERGE instead of kept up row by row (DeferredIndexes).
internal sealed class ShopSnapshot(
    ShopOptions options, ShopFollowerStateStore state, NpgsqlDataSource jobsDataSource, ErasedPhones erasedPhones,
    CrmMetrics metrics, ILogger logger)
{
    // The whole table's phones pass by once each per order: a cache smaller than their number
    // parses every row's phone again (1M orders over 200 000 phones: about 13 µs a row). At
    // most about 70 MB, only while the snapshot runs.
    public const int CachedPhones = 500_000;

    // Returns whether any customer needs a sync (to dispatch once the caller may).
    public async Task<bool> CopyAsync(NpgsqlConnection crm, ShopRows rows, ShopSnapshotHeartbeat heartbeat,
        string snapshotName, NpgsqlLogSequenceNumber consistentPoint, CancellationToken ct)
    {
        var rejections = new List<(string ShopId, string Reason)>();
        long read = 0, valid = 0;

        await using var shop = ShopDatabase.CreateConnection(options);
        await shop.OpenAsync(ct);
        await using var shopTransaction = await shop.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
        // The shop's rows exactly as of the slot's creation: the stream starts where they end.
        await shop.ExecuteAsync($"SET TRANSACTION SNAPSHOT '{snapshotName.Replace("'", "''")}'", ct);

        await using var transaction = await crm.BeginTransactionAsync(ct);
        await crm.ExecuteAsync(ShopBatch.CreateStagingSql, ct);
        await using (var export = await BeginExportAsync(shop, ct))
        await using (var copy = await crm.BeginBinaryImportAsync(ShopBatch.CopySql, ct))
        {
            var values = new string?[Enum.GetValues<OrderField>().Length];
            while (await export.StartRowAsync(ct) != -1)
            {
                for (var i = 0; i < values.Length; i++)
                    values[i] = export.IsNull ? await SkipNullAsync(export, ct) : await export.ReadAsync<string>(ct);
                read++;
                if (rows.TryRead(values, addressUnchanged: false, out var order, out var reason))
                {
                    await ShopBatch.WriteAsync(copy, order!, ct);
                    heartbeat.Progress(++valid);
                }
                else
                {
                    rejections.Add((ShopRows.ShopId(values[(int)OrderField.Id]), reason!));
                    // A rejected row keeps what this database had of it (it is not missing from the shop).
                    if (values[(int)OrderField.Id] is { Length: > 0 and <= ShopRows.ShopIdMaxLength } id)
                        await ShopBatch.WriteRejectedAsync(copy, id, ct);
                }
            }
            await copy.CompleteAsync(ct);
        }
        await shopTransaction.CommitAsync(ct);

        // Before this transaction touches orders: the drop waits for every lock on it.
        var buildIndexes = await DeferredIndexes.DeferOrdersIfNoShopOrdersAsync(jobsDataSource, ct);
        await crm.ExecuteAsync(ShopBatch.MissingFromSnapshotSql, ct);
        var (syncRequested, skippedErased) = await ShopBatch.ApplyStagedAsync(crm, transaction, erasedPhones, truncated: false, analyze: true, ct);
        // In this transaction: its commit shows the orders with their indexes, never without.
        if (buildIndexes)
            await DeferredIndexes.BuildWaitingAsync(crm, transaction, ct);
        var rejected = await ShopBatch.RecordRejectionsAsync(crm, transaction, rejections, consistentPoint, ct);
        // Stored: neither rejected nor an erased person's (ShopBatch turns those into deletes).
        var stored = valid - skippedErased;
        await heartbeat.StopAsync();
        await state.SnapshotAppliedAsync(crm, transaction, consistentPoint, stored, valid, rejected, ct);
        await transaction.CommitAsync(ct);
        // The shop's whole table just arrived: planned for at once (TableStatistics).
        await TableStatistics.AnalyzeIfManyChangedAsync(crm, "orders", valid, ct);

        metrics.ShopApplied("snapshot", valid);
        metrics.ShopRejected(rejected);
        metrics.ShopApplied("skipped_erased", skippedErased);
        logger.LogInformation("Shop snapshot applied: {Rows} rows read, {Stored} stored, {Rejected} rejected, streaming from {Lsn}",
            read, stored, rejections.Count, consistentPoint);
        return syncRequested;
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
