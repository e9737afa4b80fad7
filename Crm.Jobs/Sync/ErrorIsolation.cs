using Crm.Jobs.Data;
using Crm.Jobs.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Crm.Jobs.Sync;

// Steps 3–5 over a batch, all or nothing per phone. Normally one attempt inside a
// savepoint. If the database refuses a row for what it holds (SQLSTATE class 22, data
// exception, or 23, integrity constraint), the attempt is rolled back and the batch's
// phones are bisected, each half under its own savepoint, down to the phones that fail
// alone: those are recorded in sync_errors and skipped, everything else commits. A batch of
// n phones with one bad phone costs about 2 log2(n) extra attempts over shrinking halves,
// about three times the batch's own work.
internal sealed class ErrorIsolation(CrmMetrics metrics, ILogger logger)
{
    private const string SavepointSql = "SAVEPOINT sync_apply";
    private const string ReleaseSql = "RELEASE SAVEPOINT sync_apply";
    private const string RollbackSql = "ROLLBACK TO SAVEPOINT sync_apply";

    // The batch's phones, numbered in order, so that halves are ranges of numbers.
    private const string CreateBisectSql = """
        CREATE TEMP TABLE sync_bisect ON COMMIT DROP AS
        SELECT phone, row_number() OVER (ORDER BY phone) AS n
        FROM (SELECT phone FROM {source} s UNION SELECT c.phone FROM customers c WHERE {in_scope:c.phone}) phones;
        CREATE INDEX ON sync_bisect (n);
        CREATE TEMP TABLE sync_part (phone varchar PRIMARY KEY) ON COMMIT DROP;
        ANALYZE sync_bisect;
        """;

    private const string CountBisectSql = "SELECT count(*) FROM sync_bisect";

    // The phones numbered [@part_lo, @part_hi) become the part tried next (BatchScope.InPart).
    private const string StartPartSql = """
        TRUNCATE sync_part;
        INSERT INTO sync_part SELECT phone FROM sync_bisect WHERE n BETWEEN @part_lo AND @part_hi;
        ANALYZE sync_part;
        SAVEPOINT sync_apply;
        """;

    private const string DropBisectSql = "DROP TABLE sync_bisect, sync_part";

    // A refused phone, with the request version the run saw: from a small scope's arrays (empty
    // for full syncs: then the current version), or from the sync_scope table.
    private const string RecordErrorSql = """
        INSERT INTO sync_errors AS e (phone, sql_state, error, run_id, request_version, attempts,
                                      first_failed_at, last_failed_at, retry_at)
        SELECT b.phone, @sql_state, @error, @run_id,
               coalesce((SELECT scope.version FROM unnest(@scope_phones, @scope_versions) AS scope(phone, version) WHERE scope.phone = b.phone),
                        (SELECT r.version FROM customer_sync_requests r WHERE r.phone = b.phone)),
               1, @now, @now, @now + @first_retry
        FROM sync_bisect b WHERE b.n = @n
        ON CONFLICT (phone) DO UPDATE SET
            sql_state = excluded.sql_state, error = excluded.error, run_id = excluded.run_id,
            request_version = excluded.request_version, attempts = e.attempts + 1, last_failed_at = excluded.last_failed_at,
            -- Doubling from a minute up to a day: a phone that keeps failing costs little.
            retry_at = excluded.last_failed_at + least(@first_retry * power(2, least(e.attempts, 20)), interval '1 day')
        RETURNING phone, (SELECT c.id FROM customers c WHERE c.phone = e.phone)
        """;

    private const string RecordErrorInScopeTableSql = """
        INSERT INTO sync_errors AS e (phone, sql_state, error, run_id, request_version, attempts,
                                      first_failed_at, last_failed_at, retry_at)
        SELECT b.phone, @sql_state, @error, @run_id,
               coalesce((SELECT scope.version FROM sync_scope AS scope WHERE scope.phone = b.phone),
                        (SELECT r.version FROM customer_sync_requests r WHERE r.phone = b.phone)),
               1, @now, @now, @now + @first_retry
        FROM sync_bisect b WHERE b.n = @n
        ON CONFLICT (phone) DO UPDATE SET
            sql_state = excluded.sql_state, error = excluded.error, run_id = excluded.run_id,
            request_version = excluded.request_version, attempts = e.attempts + 1, last_failed_at = excluded.last_failed_at,
            -- Doubling from a minute up to a day: a phone that keeps failing costs little.
            retry_at = excluded.last_failed_at + least(@first_retry * power(2, least(e.attempts, 20)), interval '1 day')
        RETURNING phone, (SELECT c.id FROM customers c WHERE c.phone = e.phone)
        """;

    public async Task<(int Created, int Updated)> ApplyAsync(SyncBatch batch, CancellationToken ct)
    {
        await batch.ExecuteAsync(SavepointSql, ct);
        try
        {
            var counts = await SyncWrites.ApplyAsync(batch, batch.Scope, ct);
            await batch.ExecuteAsync(ReleaseSql, ct);
            await batch.ExecuteAsync(SyncSql.ClearErrorsSql, ct);
            return counts;
        }
        catch (PostgresException e) when (IsRowError(e))
        {
            await batch.ExecuteAsync(RollbackSql, ct);
            logger.LogWarning("Sync run {RunId}: the database refused a row ({Error}); isolating the customers that cause it",
                batch.RunId, PostgresErrorText.Of(e));
        }

        await batch.ExecuteAsync(CreateBisectSql, ct);
        var total = await batch.ScalarAsync<long>(CountBisectSql, ct);
        var inPart = batch.Scope.InPart();
        int created = 0, updated = 0;
        var pending = new Stack<(long Lo, long Hi)>();
        pending.Push((1, total));
        while (pending.TryPop(out var part))
        {
            await batch.ExecuteAsync(StartPartSql, ct, ("part_lo", part.Lo), ("part_hi", part.Hi));
            try
            {
                var counts = await SyncWrites.ApplyAsync(batch, inPart, ct);
                await batch.ExecuteAsync(ReleaseSql, ct);
                created += counts.Created;
                updated += counts.Updated;
            }
            catch (PostgresException e) when (IsRowError(e))
            {
                await batch.ExecuteAsync(RollbackSql, ct);
                if (part.Lo == part.Hi)
                {
                    await RecordErrorAsync(batch, part.Lo, e, ct);
                    if (batch.Refused.Count > SyncEngine.MaxIsolatedErrors)
                        // Without e as the inner exception: Hangfire stores and logs the whole
                        // exception, and e's message may carry the row's Detail.
                        throw new ClassifiedException(
                            $"The database refused more than {SyncEngine.MaxIsolatedErrors} customers of one sync batch; last: {FailureText.Of(e)}");
                    continue;
                }
                var middle = part.Lo + (part.Hi - part.Lo) / 2;
                // The upper half is pushed first, so phones are tried in order.
                pending.Push((middle + 1, part.Hi));
                pending.Push((part.Lo, middle));
            }
        }
        await batch.ExecuteAsync(SyncSql.ClearErrorsSql, ct);
        await batch.ExecuteAsync(DropBisectSql, ct);
        return (created, updated);
    }

    // Data exceptions (22: out of range, too long, invalid text) and integrity constraint
    // violations (23) depend on the rows written: they fail again on every retry.
    private static bool IsRowError(PostgresException e) => e.SqlState.StartsWith("22") || e.SqlState.StartsWith("23");

    // The row keeps its phone (it is retried by phone); its error text and the run's summary
    // say what happened (FailureText), the log what refused it (PostgresErrorText); the
    // customer is named by id, the row's values never.
    private async Task RecordErrorAsync(SyncBatch batch, long n, PostgresException e, CancellationToken ct)
    {
        var sql = batch.Scope == BatchScope.ScopeTable ? RecordErrorInScopeTableSql : RecordErrorSql;
        var (phone, customerId) = (await batch.QueryAsync(sql, r => (r.GetString(0), r.IsDBNull(1) ? (long?)null : r.GetInt64(1)), ct,
            ("sql_state", e.SqlState), ("error", FailureText.Of(e)), ("run_id", batch.RunId), ("n", n),
            ("first_retry", TimeSpan.FromMinutes(1)))).Single();
        batch.Refused.Add((phone, customerId, FailureText.Of(e)));
        metrics.CustomerRefused(e.SqlState);
        if (customerId is null)
            logger.LogWarning("Sync run {RunId}: a new customer could not be written: {Error}", batch.RunId, PostgresErrorText.Of(e));
        else
            logger.LogWarning("Sync run {RunId}: customer {CustomerId} could not be written: {Error}", batch.RunId, customerId, PostgresErrorText.Of(e));
    }
}
