namespace Crm.Jobs.Sync;

// The statements that write a batch's customers (steps 3–5) and count them (step 7).
internal static class SyncWrites
{
    // Steps 3–5 over the phones of `scope` (the batch's, or a part of it).
    public static async Task<(int Created, int Updated)> ApplyAsync(SyncBatch batch, BatchScope scope, CancellationToken ct)
    {
        var created = batch.Mode == SyncMode.StatsOnly ? 0 : await batch.ExecuteAsync(SyncSql.CreateCustomersSql, scope, ct);
        var updated = await batch.ExecuteAsync(SyncSql.UpdateCustomersSql(batch.Mode), scope, ct);
        updated += await batch.ExecuteAsync(SyncSql.ResetCustomersWithoutOrdersSql, scope, ct);
        return (created, updated);
    }

    // Customers in scope, orders without a usable phone (whole-table syncs, else 0), and how
    // many of the customers in scope were refused.
    public static async Task<(int Total, int Skipped, int RefusedCustomers)> CountAsync(
        SyncBatch batch, bool countSkippedOrders, CancellationToken ct)
    {
        var rows = await batch.QueryAsync(countSkippedOrders ? SyncSql.CountWithSkippedOrdersSql : SyncSql.CountSql,
            r => (r.GetInt32(0), r.GetInt32(1), r.GetInt32(2)), ct);
        return rows[0];
    }
}
