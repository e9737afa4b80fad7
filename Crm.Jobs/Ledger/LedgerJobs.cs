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
    DatabaseOptions database, ILogger<LedgerJobs> logger)
{
    public const string PruneRecurringJobId = "prune-ledger";

    // Puts back the contact fields a sync run changed, each only where the customer still
    // holds what the run wrote (a later edit wins). Statistics and categories are not
    // reverted: they follow from the orders. One transaction under the bulk lock, so no sync
    // interleaves; its changes enter the ledger as source `revert` with the run's id. Safe
    // to retry: a field already put back no longer holds the run's value, and the counts
    // come from the ledger. A field whose changes in the run had their values redacted
    // (Crm:Ledger:PersonalValueRetentionDays) is left as it is and counted: the value to put
    // back is gone, and a NULL is not it.
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
            SELECT customer_id,
                   jsonb_object_agg(field, jsonb_build_array(old_value, new_value)) FILTER (WHERE NOT redacted) AS fields,
                   (count(*) FILTER (WHERE NOT redacted))::int AS changes,
                   (count(*) FILTER (WHERE redacted))::int AS redacted
            FROM (
                SELECT customer_id, field,
                       (array_agg(old_value ORDER BY id))[1] AS old_value,
                       (array_agg(new_value ORDER BY id DESC))[1] AS new_value,
                       bool_or(old_value IS NULL AND new_value IS NULL) AS redacted
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
                   (SELECT coalesce(sum(changes), 0) FROM revert_changes)::int,
                   (SELECT coalesce(sum(redacted), 0) FROM revert_changes)::int,
                   (SELECT count(DISTINCT customer_id) FROM customer_changes
                    WHERE run_id = @run_id AND source = @revert AND field = ANY(@fields))::int;
            """, connection, transaction) { CommandTimeout = 0 };
        command.Parameters.AddWithValue("run_id", runId);
        command.Parameters.AddWithValue("fields", fields);
        command.Parameters.AddWithValue("revert", ChangeLedger.Revert);
        command.Parameters.AddWithValue("now", clock.GetUtcNow().UtcDateTime);
        int reverted, total, redacted, customers;
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            await reader.ReadAsync(ct);
            (reverted, total, redacted, customers) = (reader.GetInt32(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt32(3));
        }
        await transaction.CommitAsync(ct);
        // A revert of a force sync rewrites much of customers: the next statements are planned
        // for the table as it now is (TableStatistics).
        await TableStatistics.AnalyzeIfManyChangedAsync(connection, "customers", customers, ct);
        logger.LogInformation(
            "Reverted sync run {RunId}: {Reverted} field changes put back, {Skipped} kept (changed since), {Redacted} kept (values redacted)",
            runId, reverted, total - reverted, redacted);
        return new RevertResult(runId, reverted, total - reverted, redacted);
    }

    // A slice of the personal values past Crm:Ledger:PersonalValueRetentionDays: old and new
    // value go, the row stays. The fields are CustomerChange.PersonalFields, written out as in
    // the predicate of ix_customer_changes_personal_values, which holds only the rows still to
    // redact: a night's run reads that index's range below the cutoff, not the ledger's years
    // of rows already redacted. Oldest first, in the index's order, and looked up by id as an
    // array: the planner cannot know that the redacted rows left the index and, left to
    // choose, scanned the whole ledger to find a slice and again to join it
    // (LedgerRedactionPlanTests).
    public const string RedactPersonalValuesSql = """
        UPDATE customer_changes SET old_value = NULL, new_value = NULL
        WHERE id = ANY(ARRAY(
            SELECT id FROM customer_changes
            WHERE field IN ('created', 'deleted', 'name', 'phone', 'email', 'city', 'address', 'notes', 'merged')
              AND (old_value IS NOT NULL OR new_value IS NOT NULL)
              AND changed_at < @cutoff
            ORDER BY changed_at
            LIMIT @slice))
        """;

    // Recurring `prune-ledger`: deletes changes older than Crm:Ledger:RetentionDays, then
    // redacts the personal values older than Crm:Ledger:PersonalValueRetentionDays. In
    // slices, so no single transaction holds a year of rows; safe to re-run (a redacted row
    // is no longer found). As the ledger prune role (Crm:Database:LedgerPruneRole) if one is set.
    [Queue(JobQueues.Default)]
    [DisplayName("Prune the change ledger")]
    [AutomaticRetry(Attempts = 3, DelaysInSeconds = [10, 60, 300])]
    public async Task<LedgerPruneResult> PruneAsync(CancellationToken ct)
    {
        var (now, o) = (clock.GetUtcNow().UtcDateTime, options.Value);
        var pruned = await CrmDatabase.DeleteInSlicesAsync(
            dataSource, "customer_changes", "changed_at < @cutoff", now.AddDays(-o.RetentionDays), 50_000, ct, database.LedgerPruneRole);
        var redacted = await CrmDatabase.InSlicesAsync(
            dataSource, RedactPersonalValuesSql, now.AddDays(-o.PersonalValueRetentionDays), 50_000, ct, database.LedgerPruneRole);
        logger.LogInformation(
            "Pruned {Count} ledger changes older than {Days} days; redacted the personal values of {Redacted} changes older than {PersonalDays} days",
            pruned, o.RetentionDays, redacted, o.PersonalValueRetentionDays);
        return new LedgerPruneResult(pruned, redacted);
    }
}
