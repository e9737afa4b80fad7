using Crm.Api.Infrastructure;
using Crm.Jobs.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Crm.Api.Customers;

// Likely pairs of one person's customers (GET /api/customers/duplicates): the same e-mail
// (without case), or the same name and city (without case or surrounding spaces; not the
// placeholder name). Their phones always differ: a phone belongs to one customer. A value
// shared by more than GroupMax customers is someone's shared placeholder (the shop's own
// e-mail, a test account), not one person, and is left out: it would list thousands of pairs.
public static class CustomerDuplicates
{
    public const int GroupMax = 10;

    // One pass over customers per rule (a window count per value), then the pairs within the
    // small groups; whole-table work, paged after it.
    private const string PairsSql = """
        WITH by_email AS (
            SELECT id, lower(btrim(email)) AS k, count(*) OVER (PARTITION BY lower(btrim(email))) AS n
            FROM customers WHERE btrim(email) <> ''
        ), by_name_city AS (
            SELECT id, lower(btrim(name)) || E'\n' || lower(btrim(city)) AS k,
                   count(*) OVER (PARTITION BY lower(btrim(name)), lower(btrim(city))) AS n
            FROM customers WHERE btrim(name) NOT IN ('', @placeholder) AND btrim(city) <> ''
        ), pairs AS (
            SELECT a.id AS first_id, b.id AS second_id, 'email' AS reason
            FROM by_email a JOIN by_email b ON b.k = a.k AND b.id > a.id
            WHERE a.n <= @group_max
            UNION ALL
            SELECT a.id, b.id, 'nameAndCity'
            FROM by_name_city a JOIN by_name_city b ON b.k = a.k AND b.id > a.id
            WHERE a.n <= @group_max
        ), grouped AS MATERIALIZED (
            SELECT first_id, second_id, array_agg(reason ORDER BY reason) AS reasons FROM pairs GROUP BY first_id, second_id
        )
        SELECT t.total, p.first_id, p.second_id, p.reasons
        FROM (SELECT count(*)::int AS total FROM grouped) AS t
        LEFT JOIN LATERAL (
            SELECT * FROM grouped ORDER BY first_id, second_id LIMIT @limit OFFSET @offset
        ) AS p ON true
        """;

    public static async Task<PagedResponse<DuplicatePair>> ReadAsync(
        CrmDbContext db, NpgsqlDataSource dataSource, PageQuery query, string placeholderName, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(PairsSql);
        command.Parameters.AddWithValue("placeholder", placeholderName);
        command.Parameters.AddWithValue("group_max", GroupMax);
        command.Parameters.AddWithValue("limit", query.PageSize);
        command.Parameters.AddWithValue("offset", (query.Page - 1) * query.PageSize);
        var pairs = new List<(long First, long Second, string[] Reasons)>();
        var total = 0;
        // One row at least: the count, with no pair when the page is past the last one.
        await using (var reader = await command.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct))
            {
                total = reader.GetInt32(0);
                if (!reader.IsDBNull(1))
                    pairs.Add((reader.GetInt64(1), reader.GetInt64(2), reader.GetFieldValue<string[]>(3)));
            }

        var ids = pairs.SelectMany(p => new[] { p.First, p.Second }).Distinct().ToArray();
        var customers = await db.Customers.AsNoTracking().Where(c => ids.Contains(c.Id))
            .Select(CustomerResponse.Projection).ToDictionaryAsync(c => c.Id, ct);
        // A customer merged or deleted between the two reads drops its pair from this page.
        var items = pairs.Where(p => customers.ContainsKey(p.First) && customers.ContainsKey(p.Second))
            .Select(p => new DuplicatePair(p.Reasons, [customers[p.First], customers[p.Second]])).ToList();
        return new PagedResponse<DuplicatePair>(items, query.Page, query.PageSize, total, true);
    }
}
