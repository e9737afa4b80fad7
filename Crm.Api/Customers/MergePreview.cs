using Crm.Jobs.Categories;
using Crm.Jobs.Data;
using Crm.Jobs.Sync;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Crm.Api.Customers;

// What a merge of customers would make (POST /api/customers/merge/preview), read and written
// nowhere: the rules of docs/SYNC-RULES.md#merging-customers. The contact fields by
// MergeFields' rule (the merge's own). The statistics and the category are those of
// the completed orders of every phone of every customer, as a sync of the merged customer
// computes them.
public static class MergePreview
{
    // Each phone's completed orders by the phone index (one range per phone), then the
    // category rules over their sum: what SyncSql's source and CategoryRules make of them.
    private static readonly string StatisticsSql = $"""
        SELECT s.total_orders, s.total_spent, coalesce(round(s.total_spent / nullif(s.total_orders, 0), 2), 0),
               s.last_order_date, {CategoryRules.RuleSql("s.total_orders", "s.total_spent", "s.last_order_date")}
        FROM (
            SELECT count(o.created_at)::int AS total_orders, coalesce(sum(o.total_amount), 0) AS total_spent,
                   max(o.created_at) AS last_order_date
            FROM unnest(@phones::varchar[]) AS p(phone)
            LEFT JOIN LATERAL (
                SELECT o.total_amount, o.created_at FROM orders o
                WHERE o.normalized_phone = p.phone AND (o.status = 'completed') IS TRUE) AS o ON true
        ) AS s
        """;

    // Null when a customer does not exist: the ids missing are in `missing`.
    public static async Task<(MergePreviewResponse? Preview, long[] Missing)> ReadAsync(
        CrmDbContext db, NpgsqlDataSource dataSource, long targetId, long[] sourceIds, CategoryOptions categories,
        SyncOptions sync, DateTime now, CancellationToken ct)
    {
        long[] ids = [targetId, .. sourceIds];
        var customers = await db.Customers.AsNoTracking().Where(c => ids.Contains(c.Id)).ToListAsync(ct);
        var missing = ids.Where(id => customers.All(c => c.Id != id)).ToArray();
        if (missing.Length > 0)
            return (null, missing);
        var ordered = ids.Select(id => customers.Single(c => c.Id == id)).ToList();
        var phonesOf = await CustomerQueries.PhonesOfAsync(db, ids, ct);
        var phones = ids.SelectMany(id => phonesOf[id]).ToList();

        await using var command = dataSource.CreateCommand(StatisticsSql);
        command.Parameters.AddWithValue("phones", phones.ToArray());
        CategoryRules.AddParameters(command, categories, now);
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        var (totalOrders, totalSpent, averageOrder) = (reader.GetInt32(0), reader.GetDecimal(1), reader.GetDecimal(2));
        DateTime? lastOrderDate = reader.IsDBNull(3) ? null : reader.GetDateTime(3);
        var rule = EnumText.Parse<CategoryRule>(reader.GetString(4));
        var (merged, conflicts) = MergeFields.Decide(ordered, sync.PlaceholderName);

        var thresholds = CategoryThresholds.From(categories, now);
        return (new MergePreviewResponse(
            targetId, sourceIds, phones, merged[MergeFields.Name], merged[MergeFields.Email], merged[MergeFields.City],
            merged[MergeFields.Address], merged[MergeFields.Notes],
            totalOrders, totalSpent, averageOrder, lastOrderDate, CategoryRules.CategoryOf(rule),
            CategoryReason.Of(rule, totalOrders, totalSpent, lastOrderDate, thresholds), conflicts), []);
    }
}
