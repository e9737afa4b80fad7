using System.Globalization;
using System.Text.Json;
using Crm.Api.Infrastructure;
using Crm.Api.Reads;
using Crm.Jobs.Categories;
using Crm.Jobs.Data;
using Crm.Jobs.Ledger;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace Crm.Api.Customers;

// GET /api/customers/{id}/timeline: the customer's orders (by its current phones), notes and
// ledger rows, merged newest first.
public static class CustomerTimeline
{
    // The customer's phones and its item count; no row for an unknown customer. The count stops
    // at @cap per branch (NULL: LIMIT ALL), each branch an index-only range (one per phone).
    public const string CountSql = """
        SELECT p.phones,
               (SELECT count(*) FROM (SELECT FROM orders o WHERE o.normalized_phone = ANY(p.phones) LIMIT @cap) o)
             + (SELECT count(*) FROM (SELECT FROM customer_notes n WHERE n.customer_id = c.id LIMIT @cap) n)
             + (SELECT count(*) FROM (SELECT FROM customer_changes ch WHERE ch.customer_id = c.id LIMIT @cap) ch)
        FROM customers c
        CROSS JOIN LATERAL (SELECT array_prepend(c.phone, ARRAY(SELECT cp.phone FROM customer_phones cp WHERE cp.customer_id = c.id))) AS p(phones)
        WHERE c.id = @id
        """;

    // One page. Each branch reads its own index backwards (orders (normalized_phone, created_at
    // DESC, id DESC) — a customer with several phones: each phone's range up to @window, then
    // sorted; `= ANY` instead would let the planner walk the whole created_at index —,
    // customer_notes (customer_id, created_at), customer_changes (customer_id,
    // changed_at, id)) and stops after @window = offset + page size rows: no page needs more of
    // any one source, so the cost follows the page's depth, not the size of the tables or of the
    // customer's history. Ties of one instant: what a write caused (a change) above the write.
    public const string PageSql = """
        SELECT at, kind, source, field, old_value::text, new_value::text, reason::text,
               run_id, order_id, note_id, amount, status, note
        FROM (
            (SELECT o.created_at, 'order'::text, o.source::text, NULL::text, NULL::jsonb, NULL::jsonb, NULL::jsonb,
                    NULL::bigint, o.id, NULL::bigint, o.total_amount, o.status::text, NULL::text, 3, o.id
             FROM unnest(@phones::varchar[]) AS p(phone)
             CROSS JOIN LATERAL (
                 SELECT o.created_at, o.source, o.id, o.total_amount, o.status FROM orders o
                 WHERE o.normalized_phone = p.phone
                 ORDER BY o.created_at DESC, o.id DESC
                 LIMIT @window) AS o
             ORDER BY o.created_at DESC, o.id DESC
             LIMIT @window)
            UNION ALL
            (SELECT n.created_at, 'note', n.created_by, NULL, NULL, NULL, NULL,
                    NULL, NULL, n.id, NULL, NULL, n.note, 2, n.id
             FROM customer_notes n
             WHERE n.customer_id = @id
             ORDER BY n.created_at DESC, n.id DESC
             LIMIT @window)
            UNION ALL
            (SELECT ch.changed_at, CASE WHEN ch.field = 'created' THEN 'created' ELSE 'change' END, ch.source, ch.field,
                    ch.old_value, ch.new_value, ch.reason, ch.run_id, NULL, NULL, NULL, NULL, NULL,
                    CASE WHEN ch.field = 'created' THEN 1 ELSE 0 END, ch.id
             FROM customer_changes ch
             WHERE ch.customer_id = @id
             ORDER BY ch.changed_at DESC, ch.id DESC
             LIMIT @window)
        ) AS items (at, kind, source, field, old_value, new_value, reason,
                    run_id, order_id, note_id, amount, status, note, tie, id)
        ORDER BY at DESC, tie, id DESC
        LIMIT @page_size OFFSET @offset
        """;

    public static async Task<Results<Ok<PagedResponse<TimelineItem>>, NotFound>> GetTimeline(
        long id, [AsParameters] PageQuery query, ReadSource reads, CancellationToken ct)
    {
        return await PageAsync(id, query, reads.DataSource, ct) is { } page ? TypedResults.Ok(page) : TypedResults.NotFound();
    }

    // One page of the timeline (the API's and the dashboard card's); null for an unknown customer.
    public static async Task<PagedResponse<TimelineItem>?> PageAsync(long id, IPageQuery query, NpgsqlDataSource dataSource, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        string[] phones;
        long counted;
        await using (var count = new NpgsqlCommand(CountSql, connection))
        {
            count.Parameters.AddWithValue("id", id);
            count.Parameters.Add(new NpgsqlParameter<long?>("cap", query.Count == PagingRules.ExactCount ? null : PagingRules.MaxCount + 1));
            await using var reader = await count.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
                return null;
            (phones, counted) = (reader.GetFieldValue<string[]>(0), reader.GetInt64(1));
        }

        var offset = (query.Page - 1) * query.PageSize;
        var items = new List<TimelineItem>();
        await using (var page = new NpgsqlCommand(PageSql, connection))
        {
            page.Parameters.AddWithValue("id", id);
            page.Parameters.AddWithValue("phones", phones);
            page.Parameters.AddWithValue("window", (long)offset + query.PageSize);
            page.Parameters.AddWithValue("page_size", query.PageSize);
            page.Parameters.AddWithValue("offset", offset);
            await using var reader = await page.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                items.Add(Item(reader));
        }
        var exact = query.Count == PagingRules.ExactCount || counted <= PagingRules.MaxCount;
        var total = query.Count == PagingRules.ExactCount ? counted : Math.Min(counted, PagingRules.MaxCount);
        return new PagedResponse<TimelineItem>(items, query.Page, query.PageSize, (int)Math.Min(total, int.MaxValue), exact);
    }

    private static TimelineItem Item(NpgsqlDataReader row)
    {
        var at = row.GetDateTime(0);
        var kind = EnumText.Parse<TimelineKind>(row.GetString(1));
        var source = row.GetString(2);
        switch (kind)
        {
            case TimelineKind.Order:
                var orderId = row.GetInt64(8);
                var summary = $"order #{orderId}: {Money(row.GetDecimal(10))}, {row.GetString(11)}";
                return new TimelineItem(at, kind, source, null, null, null, null, orderId, null, summary, null, false);
            case TimelineKind.Note:
                return new TimelineItem(at, kind, source, null, null, null, null, null, row.GetInt64(9), row.GetString(12), null, false);
            default:
                var field = row.GetString(3);
                var (oldValue, newValue) = (row.IsDBNull(4) ? null : row.GetString(4), row.IsDBNull(5) ? null : row.GetString(5));
                long? runId = row.IsDBNull(7) ? null : row.GetInt64(7);
                // The change stays in the story; what it changed from and to is gone.
                if (CustomerChange.IsRedacted(field, oldValue, newValue))
                    return new TimelineItem(at, kind, source, field, null, null, runId, null, null, $"{field}: (redacted)", null, true);
                // A merge's old value is what an unmerge restores, not something the story shows.
                var (from, to) = (field == CustomerChange.Merged ? null : ChangeLedger.Json(oldValue), ChangeLedger.Json(newValue));
                var reason = field == CustomerChange.Category ? Reason(ChangeLedger.Json(row, 6), to) : null;
                return new TimelineItem(at, kind, source, field, from, to, runId, null, null, ChangeText(field, from, to, reason), reason, false);
        }
    }

    private static string ChangeText(string field, JsonElement? from, JsonElement? to, CategoryReason? reason) => field switch
    {
        CustomerChange.Created or CustomerChange.Deleted =>
            $"{field}: {Text(to ?? from, "name")}, {Text(to ?? from, "phone")}, {Text(to ?? from, "category")}",
        // "new → vip: 12 completed orders ≥ 10": the explanation names the new category itself.
        CustomerChange.Category => $"category {Text(from)} → {reason?.Text ?? Text(to)}",
        CustomerChange.Statistics => $"statistics: {Statistics(from)} → {Statistics(to)}",
        CustomerChange.Merged => $"merged: customers {SourceIds(to)} into this one (merge {Text(to, "mergeId")})",
        CustomerChange.Unmerged => $"unmerged: customers {SourceIds(to)} back (merge {Text(to, "mergeId")})",
        _ => $"{field}: {Shorten(Text(from))} → {Shorten(Text(to))}",
    };

    // The ledger keeps the rule, the statistics and the thresholds with a category change. One
    // written outside the service (source sql) has no thresholds, and perhaps a stale rule: it
    // gets no explanation rather than a wrong one.
    private static CategoryReason? Reason(JsonElement? reason, JsonElement? to)
    {
        if (reason is not { ValueKind: JsonValueKind.Object } r
            || !r.TryGetProperty("rule", out var ruleText) || !EnumText.TryParse<CategoryRule>(ruleText.GetString(), out var rule)
            || Text(to) != EnumText.ToText(CategoryRules.CategoryOf(rule))
            || !r.TryGetProperty("thresholds", out var t) || !t.TryGetProperty("regularMinOrders", out _))
            return null;
        // Written by CategoryRules.ThresholdsJson with the same options.
        var thresholds = t.Deserialize<CategoryThresholds>(CrmJson.Options)!;
        DateTime? lastOrderDate = r.GetProperty("lastOrderDate") is { ValueKind: JsonValueKind.String } date
            ? date.GetDateTimeOffset().UtcDateTime
            : null;
        return CategoryReason.Of(rule, r.GetProperty("totalOrders").GetInt32(), r.GetProperty("totalSpent").GetDecimal(), lastOrderDate, thresholds);
    }

    private static string Statistics(JsonElement? statistics) =>
        statistics is { ValueKind: JsonValueKind.Object } s
            ? $"{Orders(s.GetProperty("totalOrders").GetInt32())}, {Money(s.GetProperty("totalSpent").GetDecimal())} spent"
            : "none";

    private static string SourceIds(JsonElement? merge) =>
        merge is { ValueKind: JsonValueKind.Object } m && m.TryGetProperty("sourceIds", out var ids)
            ? string.Join(", ", ids.EnumerateArray().Select(id => id.GetRawText()))
            : "(none)";

    private static string Orders(int count) => count == 1 ? "1 order" : $"{count} orders";

    private static string Text(JsonElement? value, string? property = null)
    {
        if (property is not null && value is { ValueKind: JsonValueKind.Object } o)
            value = o.TryGetProperty(property, out var p) ? p : null;
        return value switch
        {
            { ValueKind: JsonValueKind.String } s when s.GetString() is { Length: > 0 } text => text,
            { ValueKind: JsonValueKind.String } => "(empty)",
            { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } v => v.GetRawText(),
            _ => "(none)",
        };
    }

    // A customer's notes field can be long; the item's from/to carry it whole.
    private static string Shorten(string text) => text.Length <= 80 ? text : text[..79] + "…";

    private static string Money(decimal amount) => amount.ToString("0.00", CultureInfo.InvariantCulture);
}
