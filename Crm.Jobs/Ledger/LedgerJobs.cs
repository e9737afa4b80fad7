using System.ComponentModel;
using Crm.Jobs.Data;
using Crm.Jobs.Hosting;
using Crm.Jobs.Sync;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Crm.Jobs.Ledger;

// The jobs over the change ledger: undoing a sync run, and pruning old changes.
public sealed class LedgerJobs(
    [FromKeyedServices(CrmDataSources.Jobs)] NpgsqlDataSource dataSource, TimeProvider clock, IOptions<LedgerOptions> options,
    ILogger<LedgerJobs> logger)
{
    public const string PruneRecurringJobId = "prune-ledger";

    // Puts back the contact fields a sync run changed, each only where the customer still
    // holds what the run wrote (a later edit wins). Statistics and categories are not
    // reverted: they follow from the orders. One transaction under the bulk lock, so no sync
    // interleaves; its changes enter the ledger as source `revert` with the run's id. Safe
    // to retry: a field already put back no longer holds the run's value, and the counts
    // come from the ledger.
    [Queue(JobQueues.Bulk)]
    [DisplayName("Revert sync run {0}")]
    [AutomaticRetry(Attempts = 5, DelaysInSeconds = [10, 60, 300, 900, 3600])]
    public async Task<RevertResult> RevertRunAsync(long runId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await connection.LockForTransactionAsync(transaction, SyncEngine.BulkLockKey, ct);
        await ChangeLedger.BeginAsync(connection, transaction, ChangeLedger.Revert, runId, null, ct);

        // Per customer and field: the value before the run's first change and after its last.
        string Put(string field) =>
            $"{field} = CASE WHEN r.fields->'{field}'->1 = to_jsonb(c.{field}) THEN r.fields->'{field}'->>0 ELSE c.{field} END";
        string Holds(string field) => $"r.fields->'{field}'->1 = to_jsonb(c.{field})";
        var fields = CustomerChange.ContactFields;
        await using var command = new NpgsqlCommand($"""
            CREATE TEMP TABLE revert_changes ON COMMIT DROP AS
            SELECT customer_id, jsonb_object_agg(field, jsonb_build_array(old_value, new_value)) AS fields, count(*)::int AS changes
            FROM (
                SELECT customer_id, field,
                       (array_agg(old_value ORDER BY id))[1] AS old_value,
                       (array_agg(new_value ORDER BY id DESC))[1] AS new_value
                FROM customer_changes
                WHERE run_id = @run_id AND source LIKE 'sync:%' AND field = ANY(@fields)
                GROUP BY customer_id, field
            ) per_field
            GROUP BY customer_id;

            UPDATE customers c
            SET {string.Join(", ", fields.Select(Put))}, updated_at = @now
            FROM revert_changes r
            WHERE r.customer_id = c.id AND ({string.Join(" OR ", fields.Select(Holds))});

            UPDATE sync_runs SET reverted_at = @now WHERE id = @run_id;

            SELECT (SELECT count(*) FROM customer_changes
                    WHERE run_id = @run_id AND source = @revert AND field = ANY(@fields))::int,
                   (SELECT coalesce(sum(changes), 0) FROM revert_changes)::int;
            """, connection, transaction) { CommandTimeout = 0 };
        command.Parameters.AddWithValue("run_id", runId);
        command.Parameters.AddWithValue("fields", fields);
        command.Parameters.AddWithValue("revert", ChangeLedger.Revert);
        command.Parameters.AddWithValue("now", clock.GetUtcNow().UtcDateTime);
        int reverted, total;
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            await reader.ReadAsync(ct);
            (reverted, total) = (reader.GetInt32(0), reader.GetInt32(1));
        }
        await transaction.CommitAsync(ct);
        logger.LogInformation("Reverted sync run {RunId}: {Reverted} field changes put back, {Skipped} kept (changed since)",
            runId, reverted, total - reverted);
        return new RevertResult(runId, reverted, total - reverted);
    }

    // Recurring `prune-ledger`: changes older than Crm:Ledger:RetentionDays. In slices, so
    // no single transaction holds a year of rows.
    [Queue(JobQueues.Default)]
    [DisplayName("Prune the change ledger")]
    [AutomaticRetry(Attempts = 3, DelaysInSeconds = [10, 60, 300])]
    public async Task<int> PruneAsync(CancellationToken ct)
    {
        var cutoff = clock.GetUtcNow().UtcDateTime.AddDays(-options.Value.RetentionDays);
        var pruned = await CrmDatabase.DeleteInSlicesAsync(dataSource, "customer_changes", "changed_at < @cutoff", cutoff, 50_000, ct);
        logger.LogInformation("Pruned {Count} ledger changes older than {Days} days", pruned, options.Value.RetentionDays);
        return pruned;
    }
}
