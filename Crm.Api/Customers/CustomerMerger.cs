using System.Text.Json;
using Crm.Jobs.Customers;
using Crm.Jobs.Data;
using Crm.Jobs.Ledger;
using Crm.Jobs.Sync;
using Crm.Jobs.Webhooks;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;

namespace Crm.Api.Customers;

// Merging customers into one and undoing it (docs/API.md, "Merging customers"; the rules in
// docs/SYNC-RULES.md#merging-customers). Each runs in one transaction that first takes the
// locks a per-customer sync takes on every phone of the customers involved (and locks their
// rows), so no sync, phone change or other merge sees it halfway: a second merge of one of
// the customers waits, then finds it merged away (409). The statistics follow by the
// pending-writes job the answer names, from sync requests of every phone recorded in the
// same transaction, as after any write.
public static class CustomerMerger
{
    private const string LockRowsSql = "SELECT *, xmin FROM customers WHERE id = ANY(@ids) ORDER BY id FOR UPDATE";

    // The merge's webhook event for every subscription that wants it, in its transaction (as
    // an erase writes customer.erased). Every customer.* event names its customer: the target.
    private static readonly string EventSql = $"""
        INSERT INTO webhook_events (webhook_id, type, occurred_at, data)
        SELECT w.id, @type, @at, @data::jsonb
        FROM webhooks w
        WHERE {WebhookDispatcher.WantsSql("@type")}
        ORDER BY w.id
        """;

    // What the ledger's merged row keeps for an unmerge (its old value).
    private sealed record Snapshot(Fields Target, Fields Merged, List<Source> Sources);

    private sealed record Fields(string Name, string Email, string City, string Address, string Notes)
    {
        public static Fields Of(Customer c) => new(c.Name, c.Email, c.City, c.Address, c.Notes);
    }

    private sealed record Source(Customer Customer, List<SourcePhone> OtherPhones, long[] NoteIds);

    private sealed record SourcePhone(string Phone, DateTime AddedAt);

    public static async Task<Results<Accepted<MergeAccepted>, ProblemHttpResult>> MergeAsync(
        CrmDbContext db, SyncScheduler scheduler, long targetId, long[] sourceIds, string changeSource, SyncOptions sync,
        DateTime now, CancellationToken ct)
    {
        long[] ids = [targetId, .. sourceIds];
        long mergeId;
        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            var phonesOf = await LockAsync(db, ids, [], ct);
            var rows = await db.Customers.FromSqlRaw(LockRowsSql, new NpgsqlParameter("ids", ids)).AsNoTracking().ToListAsync(ct);
            var missing = ids.Where(id => rows.All(c => c.Id != id)).ToArray();
            if (missing.Length > 0)
                return await MissingAsync(db, missing, ct);
            var customers = ids.Select(id => rows.Single(c => c.Id == id)).ToList();
            var (merged, _) = MergeFields.Decide(customers, sync.PlaceholderName);
            var target = customers[0];
            var after = new Fields(merged[MergeFields.Name].Value, merged[MergeFields.Email].Value, merged[MergeFields.City].Value,
                merged[MergeFields.Address].Value, merged[MergeFields.Notes].Value);

            var otherPhones = await db.CustomerPhones.AsNoTracking().Where(p => sourceIds.Contains(p.CustomerId)).ToListAsync(ct);
            var notes = await db.CustomerNotes.AsNoTracking().Where(n => sourceIds.Contains(n.CustomerId))
                .OrderBy(n => n.Id).Select(n => new { n.Id, n.CustomerId }).ToListAsync(ct);
            var sources = customers.Skip(1).Select(s => new Source(
                s,
                otherPhones.Where(p => p.CustomerId == s.Id).OrderBy(p => p.AddedAt).ThenBy(p => p.Phone, StringComparer.Ordinal)
                    .Select(p => new SourcePhone(p.Phone, p.AddedAt)).ToList(),
                notes.Where(n => n.CustomerId == s.Id).Select(n => n.Id).ToArray())).ToList();
            var snapshot = new Snapshot(Fields.Of(target), after, sources);

            await ChangeLedger.BeginAsync(db, changeSource, ct);
            mergeId = await db.Database.SqlQueryRaw<long>(
                "SELECT nextval(pg_get_serial_sequence('customer_merges', 'id')) AS \"Value\"").SingleAsync(ct);
            var summary = Summary(mergeId, targetId, sourceIds);
            var ledgerId = await LedgerRowAsync(db, targetId, CustomerChange.Merged, JsonSerializer.Serialize(snapshot, CrmJson.Options),
                summary, now, changeSource, ct);
            db.CustomerMerges.Add(new CustomerMerge
            {
                Id = mergeId, TargetId = targetId, SourceIds = sourceIds, MergedAt = now, MergedBy = changeSource, LedgerId = ledgerId,
            });
            await db.SaveChangesAsync(ct);

            // The notes first: deleting the sources would take them along.
            await db.CustomerNotes.Where(n => sourceIds.Contains(n.CustomerId))
                .ExecuteUpdateAsync(n => n.SetProperty(x => x.CustomerId, targetId), ct);
            await db.Customers.Where(c => sourceIds.Contains(c.Id)).ExecuteDeleteAsync(ct);
            // The sources' phones, each source's primary one first, become the target's other
            // phones; a microsecond apart, so its phones list in the order the preview showed.
            var moved = sourceIds.SelectMany(id => phonesOf[id]).ToArray();
            await db.Database.ExecuteSqlRawAsync("""
                INSERT INTO customer_phones (phone, customer_id, added_at)
                SELECT p.phone, @target, @now + (p.n * interval '1 microsecond') FROM unnest(@phones::varchar[]) WITH ORDINALITY AS p(phone, n)
                """, [new NpgsqlParameter("phones", moved), new NpgsqlParameter("target", targetId), new NpgsqlParameter("now", now)], ct);
            await SetFieldsAsync(db, targetId, Fields.Of(target), after, now, ct);

            await EventAsync(db, WebhookEventTypes.CustomerMerged, summary, now, ct);
            await SyncScheduler.RecordAsync(db, phonesOf.Values.SelectMany(p => p), ct);
            await transaction.CommitAsync(ct);
        }
        var jobId = await scheduler.DispatchAsync(ct);
        return MergeAccepted.For(mergeId, jobId);
    }

    public static async Task<Results<Accepted<MergeAccepted>, NotFound, ProblemHttpResult>> UnmergeAsync(
        CrmDbContext db, SyncScheduler scheduler, long mergeId, string changeSource, DateTime now, CancellationToken ct)
    {
        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            var merge = await db.CustomerMerges.AsNoTracking().FirstOrDefaultAsync(m => m.Id == mergeId, ct);
            if (merge is null)
                return TypedResults.NotFound();
            var json = await db.CustomerChanges.Where(c => c.Id == merge.LedgerId && c.Field == CustomerChange.Merged)
                .Select(c => c.OldValue).FirstOrDefaultAsync(ct);
            if (json is null)
                return Conflict("The merge can no longer be undone",
                    $"The ledger no longer holds what the customers of merge {mergeId} were (its personal values are kept " +
                    "Crm:Ledger:PersonalValueRetentionDays, its rows Crm:Ledger:RetentionDays).", new() { ["mergeId"] = mergeId });
            var snapshot = JsonSerializer.Deserialize<Snapshot>(json, CrmJson.Options)!;
            var sourcePhones = snapshot.Sources
                .SelectMany(s => s.OtherPhones.Select(p => p.Phone).Prepend(s.Customer.Phone)).ToArray();

            var phonesOf = await LockAsync(db, [merge.TargetId], sourcePhones, ct);
            // Read again under the locks: an unmerge or merge of these customers may have committed meanwhile.
            merge = await db.CustomerMerges.FromSqlRaw("SELECT * FROM customer_merges WHERE id = @id FOR UPDATE",
                new NpgsqlParameter("id", mergeId)).AsNoTracking().SingleAsync(ct);
            if (merge.UnmergedAt is not null)
                return Conflict("The merge was undone already", $"Merge {mergeId} was undone at {merge.UnmergedAt:O}.",
                    new() { ["mergeId"] = mergeId });
            long[] ids = [merge.TargetId, .. merge.SourceIds];
            var later = await db.CustomerMerges.AsNoTracking()
                .Where(m => m.Id > mergeId && m.UnmergedAt == null && (ids.Contains(m.TargetId) || m.SourceIds.Any(s => ids.Contains(s))))
                .OrderByDescending(m => m.Id).Select(m => (long?)m.Id).FirstOrDefaultAsync(ct);
            if (later is not null)
                return Conflict("A later merge involves these customers",
                    $"Merge {later} involves customers of merge {mergeId}: undo it first.",
                    new() { ["mergeId"] = mergeId, ["laterMergeId"] = later });
            var target = (await db.Customers.FromSqlRaw(LockRowsSql, new NpgsqlParameter("ids", new[] { merge.TargetId }))
                .AsNoTracking().ToListAsync(ct)).SingleOrDefault();
            if (target is null)
                return Conflict("The merged customer no longer exists",
                    $"Customer {merge.TargetId}, which merge {mergeId} merged into, was deleted or erased since.",
                    new() { ["mergeId"] = mergeId, ["targetId"] = merge.TargetId });
            if (sourcePhones.Contains(target.Phone))
                return Conflict("The customer's primary phone came from a source",
                    $"Customer {merge.TargetId}'s primary phone is one merge {mergeId} brought from a source: make another of its phones the primary one first.",
                    new() { ["mergeId"] = mergeId });
            foreach (var phone in sourcePhones)
            {
                var owner = await CustomerQueries.OwnerOfPhoneAsync(db, phone, ct);
                if (owner is not null && owner != merge.TargetId)
                    return Conflict("A phone of a source belongs to another customer now",
                        $"A phone merge {mergeId} moved to customer {merge.TargetId} belongs to customer {owner} now: merge or remove it first.",
                        new() { ["mergeId"] = mergeId, ["existingId"] = owner });
            }

            await ChangeLedger.BeginAsync(db, changeSource, ct);
            await db.CustomerPhones.Where(p => p.CustomerId == merge.TargetId && sourcePhones.Contains(p.Phone)).ExecuteDeleteAsync(ct);
            foreach (var source in snapshot.Sources)
            {
                db.Customers.Add(Restored(source.Customer, now));
                db.CustomerPhones.AddRange(source.OtherPhones.Select(p => new CustomerPhone
                {
                    Phone = p.Phone, CustomerId = source.Customer.Id, AddedAt = p.AddedAt,
                }));
            }
            await db.SaveChangesAsync(ct);
            foreach (var source in snapshot.Sources)
                await db.CustomerNotes.Where(n => n.CustomerId == merge.TargetId && source.NoteIds.Contains(n.Id))
                    .ExecuteUpdateAsync(n => n.SetProperty(x => x.CustomerId, source.Customer.Id), ct);
            // A field the merge filled goes back to what it was, unless someone changed it since.
            var current = Fields.Of(target);
            await SetFieldsAsync(db, merge.TargetId, current, new Fields(
                Back(current.Name, snapshot.Merged.Name, snapshot.Target.Name),
                Back(current.Email, snapshot.Merged.Email, snapshot.Target.Email),
                Back(current.City, snapshot.Merged.City, snapshot.Target.City),
                Back(current.Address, snapshot.Merged.Address, snapshot.Target.Address),
                Back(current.Notes, snapshot.Merged.Notes, snapshot.Target.Notes)), now, ct);

            await db.CustomerMerges.Where(m => m.Id == mergeId)
                .ExecuteUpdateAsync(m => m.SetProperty(x => x.UnmergedAt, now).SetProperty(x => x.UnmergedBy, changeSource), ct);
            var summary = Summary(mergeId, merge.TargetId, merge.SourceIds);
            await LedgerRowAsync(db, merge.TargetId, CustomerChange.Unmerged, null, summary, now, changeSource, ct);
            await EventAsync(db, WebhookEventTypes.CustomerUnmerged, summary, now, ct);
            await SyncScheduler.RecordAsync(db, phonesOf.Values.SelectMany(p => p).Concat(sourcePhones), ct);
            await transaction.CommitAsync(ct);
        }
        var jobId = await scheduler.DispatchAsync(ct);
        return MergeAccepted.For(mergeId, jobId);
    }

    private static string Back(string current, string merged, string before) => current == merged ? before : current;

    // A source as the merge found it; the job that follows recomputes its statistics from its
    // orders (the same, unless orders of its phones were written since).
    private static Customer Restored(Customer s, DateTime now) => new()
    {
        Id = s.Id, Name = s.Name, Phone = s.Phone, Email = s.Email, City = s.City, Address = s.Address, Notes = s.Notes,
        Category = s.Category, CategoryRule = s.CategoryRule, TotalOrders = s.TotalOrders, TotalSpent = s.TotalSpent,
        AverageOrder = s.AverageOrder, LastOrderDate = s.LastOrderDate, CreatedAt = s.CreatedAt, UpdatedAt = now,
    };

    // Locks every phone of the customers and the extra ones, as a per-customer sync does, and
    // reads the customers' phones again under the locks until no phone was added meanwhile.
    private static async Task<Dictionary<long, List<string>>> LockAsync(
        CrmDbContext db, long[] ids, IReadOnlyCollection<string> extra, CancellationToken ct)
    {
        var locked = new HashSet<string>();
        while (true)
        {
            var phonesOf = await CustomerQueries.PhonesOfAsync(db, ids, ct);
            var wanted = phonesOf.Values.SelectMany(p => p).Concat(extra).ToHashSet();
            if (locked.IsSupersetOf(wanted))
                return phonesOf;
            await SyncScheduler.LockPhonesAsync(db, wanted, ct);
            locked.UnionWith(wanted);
        }
    }

    private static async Task SetFieldsAsync(CrmDbContext db, long id, Fields before, Fields after, DateTime now, CancellationToken ct)
    {
        if (before == after)
            return;
        await db.Customers.Where(c => c.Id == id).ExecuteUpdateAsync(c => c
            .SetProperty(x => x.Name, after.Name).SetProperty(x => x.Email, after.Email).SetProperty(x => x.City, after.City)
            .SetProperty(x => x.Address, after.Address).SetProperty(x => x.Notes, after.Notes).SetProperty(x => x.UpdatedAt, now), ct);
    }

    private static string Summary(long mergeId, long targetId, long[] sourceIds) =>
        JsonSerializer.Serialize(new { customerId = targetId, mergeId, targetId, sourceIds });

    // The app role may only add ledger rows; the trigger writes those of the customers' own
    // changes, this one the merge (or unmerge) itself.
    private static Task<long> LedgerRowAsync(
        CrmDbContext db, long customerId, string field, string? oldValue, string newValue, DateTime now, string source, CancellationToken ct) =>
        db.Database.SqlQueryRaw<long>("""
            INSERT INTO customer_changes (customer_id, field, old_value, new_value, changed_at, source)
            VALUES (@customer_id, @field, @old_value, @new_value, @now, @source)
            RETURNING id AS "Value"
            """,
            new NpgsqlParameter("customer_id", customerId), new NpgsqlParameter("field", field),
            new NpgsqlParameter("old_value", NpgsqlDbType.Jsonb) { Value = (object?)oldValue ?? DBNull.Value },
            new NpgsqlParameter("new_value", NpgsqlDbType.Jsonb) { Value = newValue },
            new NpgsqlParameter("now", now), new NpgsqlParameter("source", source)).AsAsyncEnumerable().SingleAsync(ct).AsTask();

    private static async Task EventAsync(CrmDbContext db, string type, string data, DateTime at, CancellationToken ct)
    {
        var written = await db.Database.ExecuteSqlRawAsync(EventSql,
            [new NpgsqlParameter("type", type), new NpgsqlParameter("at", at), new NpgsqlParameter("data", data)], ct);
        if (written > 0)
            await db.Database.ExecuteSqlRawAsync(WebhookDispatcher.NotifySql, ct);
    }

    // An id that is not a customer: 409 when a merge took it (naming the customer it went
    // into), else 404.
    private static async Task<ProblemHttpResult> MissingAsync(CrmDbContext db, long[] missing, CancellationToken ct)
    {
        var merged = await db.CustomerMerges.AsNoTracking()
            .Where(m => m.UnmergedAt == null && m.SourceIds.Any(s => missing.Contains(s)))
            .OrderBy(m => m.Id).Select(m => new { m.Id, m.TargetId, m.SourceIds }).FirstOrDefaultAsync(ct);
        if (merged is null)
            return NotFound(missing);
        var id = merged.SourceIds.First(missing.Contains);
        return Conflict("The customer was merged already",
            $"Customer {id} was merged into customer {merged.TargetId} (merge {merged.Id}).",
            new() { ["customerId"] = id, ["mergeId"] = merged.Id, ["targetId"] = merged.TargetId });
    }

    public static ProblemHttpResult NotFound(long[] missing) => TypedResults.Problem(
        statusCode: StatusCodes.Status404NotFound,
        title: "No such customer",
        detail: $"Customer{(missing.Length == 1 ? "" : "s")} {string.Join(", ", missing)} do{(missing.Length == 1 ? "es" : "")} not exist.",
        extensions: new Dictionary<string, object?> { ["missingIds"] = missing });

    private static ProblemHttpResult Conflict(string title, string detail, Dictionary<string, object?> extensions) =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: title, detail: detail, extensions: extensions);
}
