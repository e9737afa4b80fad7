using System.Data;
using Crm.Jobs.Customers;
using Crm.Jobs.Data;
using Npgsql;

namespace Crm.Api.Dashboard;

// Customers per category at the end of each of the last days, from the ledger: today's counts
// from customers, walked back a day at a time by what the ledger recorded since — a category
// change moves a customer from one category to another, a `created` row adds one, a `deleted`
// row (a delete, a merge's source, an erasure) takes one away. What it cannot see is in
// docs/OPERATIONS.md (the dashboard's pictures).
public static class CategoryHistory
{
    // Today's customers of each category, as the crm_customers gauge counts them: one pass over
    // customers. A count per category through the category index is no cheaper: the rows of
    // a category lie on nearly every page of the table, so each count read the whole table
    // again (DashboardPicturesPlanTests). A category without customers has no row.
    public const string CountsSql = "SELECT category, count(*)::int FROM customers GROUP BY category";

    // The ledger's moves between categories since @from, summed per day of the dashboard's
    // zone (width_bucket over the days' starting instants, computed in .NET). Only the rows
    // of ix_customer_changes_category_history are read: the days asked for, three fields.
    // A row whose values an erasure or the retention redacted takes its category from the
    // customer's category changes (kept for the ledger's whole retention): the one before a
    // delete, the one after a creation. A merge undone restores its source under the same id
    // with its old created_at: that deleted row and the restoring created row cancel out
    // (the customer counts as if it had never been merged).
    public const string MovesSql = """
        SELECT width_bucket(ch.changed_at, @day_starts) AS day, m.category, sum(m.delta)::int AS delta
        FROM customer_changes ch
        CROSS JOIN LATERAL (VALUES
            (CASE ch.field
                 WHEN 'category' THEN ch.new_value #>> '{}'
                 WHEN 'created' THEN coalesce(ch.new_value ->> 'category',
                     (SELECT f.old_value #>> '{}' FROM customer_changes f
                      WHERE f.customer_id = ch.customer_id AND f.field = 'category' AND f.changed_at >= ch.changed_at
                      ORDER BY f.changed_at, f.id LIMIT 1))
             END, 1),
            (CASE ch.field
                 WHEN 'category' THEN ch.old_value #>> '{}'
                 WHEN 'deleted' THEN coalesce(ch.old_value ->> 'category',
                     (SELECT f.new_value #>> '{}' FROM customer_changes f
                      WHERE f.customer_id = ch.customer_id AND f.field = 'category' AND f.changed_at <= ch.changed_at
                      ORDER BY f.changed_at DESC, f.id DESC LIMIT 1))
             END, -1)
        ) AS m(category, delta)
        WHERE ch.field IN ('category', 'created', 'deleted') AND ch.changed_at >= @from
          AND m.category IS NOT NULL
          AND NOT (ch.field = 'deleted' AND EXISTS (
              SELECT 1 FROM customer_changes r WHERE r.customer_id = ch.customer_id AND r.field = 'created' AND r.id > ch.id))
          AND NOT (ch.field = 'created' AND ch.source NOT LIKE 'sync:%' AND EXISTS (
              SELECT 1 FROM customer_changes d WHERE d.customer_id = ch.customer_id AND d.field = 'deleted' AND d.id < ch.id))
        GROUP BY 1, 2
        """;

    // The customers of each category at the end of each of the `days` days up to today (in the
    // dashboard's zone), oldest first; today's are the counts now.
    public static async Task<List<CategoryDay>> ReadAsync(
        NpgsqlDataSource dataSource, DashboardTime time, DateTime nowUtc, int days, CancellationToken ct)
    {
        var today = DateOnly.FromDateTime(time.ToLocal(nowUtc));
        var dates = Enumerable.Range(0, days).Select(i => today.AddDays(i - days + 1)).ToList();
        // The instants days 1..n-1 begin: what happened since the first of them is walked back.
        var starts = dates.Skip(1).Select(time.StartOfDayUtc).ToArray();
        var categories = Enum.GetValues<CustomerCategory>().Select(EnumText.ToText).ToArray();

        await using var connection = await dataSource.OpenConnectionAsync(ct);
        // One snapshot: today's counts and the ledger's rows agree.
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
        // The planner costs the lookups for redacted rows as if every row needed them, past
        // jit_above_cost: compiling took 0.6 s for a statement of milliseconds (4 444 rows).
        await using (var jitOff = new NpgsqlCommand("SET LOCAL jit = off", connection, transaction))
            await jitOff.ExecuteNonQueryAsync(ct);
        var counts = categories.ToDictionary(c => c, _ => 0);
        await using (var command = new NpgsqlCommand(CountsSql, connection, transaction))
        {
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                counts[reader.GetString(0)] = reader.GetInt32(1);
        }
        // moves[day][category]: the net change during that day.
        var moves = new Dictionary<(int Day, string Category), int>();
        if (starts.Length > 0)
        {
            await using var command = new NpgsqlCommand(MovesSql, connection, transaction);
            command.Parameters.AddWithValue("day_starts", starts);
            command.Parameters.AddWithValue("from", starts[0]);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                moves[(reader.GetInt32(0), reader.GetString(1))] = reader.GetInt32(2);
        }
        await transaction.CommitAsync(ct);

        var result = new CategoryDay[days];
        for (var day = days - 1; day >= 0; day--)
        {
            result[day] = new CategoryDay(dates[day], new Dictionary<string, int>(counts));
            // The end of the day before: undo this day's moves.
            foreach (var category in categories)
                counts[category] -= moves.GetValueOrDefault((day, category));
        }
        return [.. result];
    }
}
