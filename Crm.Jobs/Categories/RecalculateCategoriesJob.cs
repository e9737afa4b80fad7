using System.ComponentModel;
using Crm.Jobs.Data;
using Crm.Jobs.Hosting;
using Crm.Jobs.Ledger;
using Crm.Jobs.Sync;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Crm.Jobs.Categories;

// Categories depend on time as well as on orders (a VIP who stops buying becomes
// inactive), so they are recomputed from the stored statistics on a schedule.
public sealed class RecalculateCategoriesJob(
    [FromKeyedServices(CrmDataSources.Jobs)] NpgsqlDataSource dataSource, TimeProvider clock, IOptions<CategoryOptions> options, ILogger<RecalculateCategoriesJob> logger)
{
    public const string RecurringJobId = "recalculate-categories";

    [Queue(JobQueues.Bulk)]
    [DisplayName("Recalculate customer categories")]
    [AutomaticRetry(Attempts = 5, DelaysInSeconds = [10, 60, 300, 900, 3600])]
    public async Task<RecalculationResult> RunAsync(CancellationToken ct)
    {
        var started = clock.GetTimestamp();
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);

        await connection.LockForTransactionAsync(transaction, SyncEngine.BulkLockKey, ct);

        var now = clock.GetUtcNow().UtcDateTime;
        await ChangeLedger.BeginAsync(connection, transaction, ChangeLedger.Recalculate, null,
            CategoryRules.ThresholdsJson(options.Value, now), ct);

        var category = CategoryRules.Sql("total_orders", "total_spent", "last_order_date");
        var rule = CategoryRules.RuleSql("total_orders", "total_spent", "last_order_date");
        await using var command = new NpgsqlCommand($"""
            WITH changed AS (
                UPDATE customers SET category = {category}, category_rule = {rule}, updated_at = @now
                WHERE (category, category_rule) IS DISTINCT FROM ({category}, {rule})
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM changed)::int, (SELECT count(*) FROM customers)::int
            """, connection, transaction) { CommandTimeout = 0 };
        command.Parameters.AddWithValue("now", now);
        CategoryRules.AddParameters(command, options.Value, now);

        int changed, total;
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            await reader.ReadAsync(ct);
            (changed, total) = (reader.GetInt32(0), reader.GetInt32(1));
        }
        await transaction.CommitAsync(ct);

        var result = new RecalculationResult(changed, total, (long)clock.GetElapsedTime(started).TotalMilliseconds);
        logger.LogInformation("Recalculated categories: {Changed} of {Total} customers changed", changed, total);
        return result;
    }
}
