using System.ComponentModel;
using System.Text.Json;
using Crm.Jobs.Data;
using Crm.Jobs.Hosting;
using Crm.Jobs.Ledger;
using Crm.Jobs.Webhooks;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Crm.Jobs.Privacy;

// The erase of one person (docs/PRIVACY.md#erase): every store in PersonalDataStores, the
// tombstone that keeps the person out, and customer.erased, in one transaction.
public sealed class ErasureJobs(
    [FromKeyedServices(CrmDataSources.Jobs)] NpgsqlDataSource dataSource, PhoneHasher hasher, TimeProvider clock,
    DatabaseOptions database, ILogger<ErasureJobs> logger)
{
    public const string ChangeSource = "erase";

    // A transaction lock per erasure (two-key form, this space): the request holds it from the
    // row's insert to its commit, the job takes it first. So a job that starts before the
    // request committed waits for the commit instead of finding no row.
    public const int LockSpace = 0x435245; // "CRE"

    // Orders, then customers: the same order as every writer that touches both (order writes
    // never lock customers), so the erase never deadlocks with one. SHARE ROW EXCLUSIVE: a
    // writer of either table that is under way finishes first (the erase then removes what
    // it wrote), a new one waits for the commit and then reads the tombstone (ErasedPhones).
    private const string LockSql = "LOCK TABLE orders, customers IN SHARE ROW EXCLUSIVE MODE";

    private const string TombstoneSql = """
        INSERT INTO erased_phones AS t (phone_hash, erased_at) VALUES (@hash, @erased_at)
        ON CONFLICT (phone_hash) DO UPDATE SET erased_at = greatest(t.erased_at, excluded.erased_at)
        """;

    private static readonly string ErasedEventSql = $"""
        INSERT INTO webhook_events (webhook_id, type, occurred_at, data)
        SELECT w.id, '{WebhookEventTypes.CustomerErased}', @erased_at,
               jsonb_build_object('customerId', c.id, 'erasedAt', to_char(@erased_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
        FROM unnest(@customer_ids) AS c(id)
        JOIN webhooks w ON {WebhookDispatcher.WantsSql($"'{WebhookEventTypes.CustomerErased}'")}
        ORDER BY w.id, c.id
        """;

    [Queue(JobQueues.Default)]
    [DisplayName("Erase a person (erasure {0})")]
    [AutomaticRetry(Attempts = 10, DelaysInSeconds = [2, 10, 30, 60, 300, 600, 900, 1800, 3600, 3600])]
    public async Task<ErasureResult> EraseAsync(long erasureId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await connection.LockForTransactionAsync(transaction, LockSpace, erasureId.ToString(), ct);
        await connection.ExecuteAsync(LockSql, transaction, ct);

        var request = (await connection.QueryAsync(
            "SELECT customer_id, phone, completed_at, counts::text FROM erasures WHERE id = @id FOR UPDATE", transaction,
            r => (CustomerId: r.IsDBNull(0) ? (long?)null : r.GetInt64(0), Phone: r.IsDBNull(1) ? null : r.GetString(1),
                  CompletedAt: r.IsDBNull(2) ? (DateTime?)null : r.GetDateTime(2), Counts: r.IsDBNull(3) ? null : r.GetString(3)),
            ct, ("id", erasureId))).SingleOrDefault();
        if (request == default)
            throw new InvalidOperationException($"Erasure {erasureId} does not exist.");
        // A retry after a commit whose acknowledgement was lost: done already.
        if (request.CompletedAt is { } done)
            return new ErasureResult(erasureId, [], done, JsonSerializer.Deserialize<Dictionary<string, int>>(request.Counts ?? "{}")!);
        var phone = request.Phone ?? throw new InvalidOperationException($"Erasure {erasureId} has no phone.");

        await ChangeLedger.BeginAsync(connection, transaction, ChangeSource, null, null, ct);
        var erasedAt = clock.GetUtcNow().UtcDateTime;
        var person = await Person.FindAsync(connection, transaction, phone, request.CustomerId, ct);
        var customerIds = person.CustomerIds;

        // Every phone of the person keeps their orders out from now on.
        foreach (var personPhone in person.Phones)
            await connection.ExecuteAsync(TombstoneSql, transaction, ct, ("hash", hasher.Hash(personPhone)), ("erased_at", erasedAt));
        var counts = new Dictionary<string, int>();
        foreach (var store in PersonalDataStores.All)
        {
            // The app role may not change ledger rows: that statement runs as the prune role.
            var role = store.LedgerPrune ? database.LedgerPruneRole : "";
            await DatabaseRoles.SetLocalRoleAsync(connection, transaction, role, ct);
            counts[store.Name] = await connection.ExecuteAsync(store.EraseSql, transaction, ct, person.Parameters());
            await DatabaseRoles.ResetRoleAsync(connection, transaction, role, ct);
        }

        // Subscribers hear that the customer is gone, and nothing else about them.
        if (await connection.ExecuteAsync(ErasedEventSql, transaction, ct, ("customer_ids", customerIds), ("erased_at", erasedAt)) > 0)
            await connection.ExecuteAsync(WebhookDispatcher.NotifySql, transaction, ct);

        await connection.ExecuteAsync("""
            UPDATE erasures SET completed_at = @erased_at, phone = NULL, counts = @counts::jsonb,
                                customer_id = coalesce(customer_id, @first_customer)
            WHERE id = @id
            """, transaction, ct,
            ("erased_at", erasedAt), ("counts", JsonSerializer.Serialize(counts)), ("id", erasureId),
            ("first_customer", customerIds.Length > 0 ? customerIds[0] : DBNull.Value));
        await transaction.CommitAsync(ct);
        // A person with much of the orders (a test shop's one phone, a marketplace's account)
        // leaves a table the planner no longer knows (TableStatistics).
        await TableStatistics.AnalyzeIfManyChangedAsync(connection, "orders", counts["orders"], ct);

        logger.LogInformation("Erasure {ErasureId} completed: {Customers} customer(s), {Orders} order(s), {Ledger} ledger row(s) redacted",
            erasureId, counts["customers"], counts["orders"], counts["ledger"]);
        return new ErasureResult(erasureId, customerIds, erasedAt, counts);
    }
}
