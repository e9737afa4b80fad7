using System.Diagnostics;
using System.Net;

namespace Crm.Bench;

// Issue 21: one person's erase, from outside, per data set; and with --explain the plans of
// its statements.
public sealed partial class Benchmark
{
    private const int EraseSamples = 10;
    private const int EraseOrders = 1_000;

    // One person's erase (issue 21: ≤ 1 s for a customer with 1 000 orders and their ledger at
    // 1M orders): per sample a new customer (CreatePersonToEraseAsync), then
    // POST /api/customers/{id}/erase, GET /api/jobs/{id} every 3 ms until Succeeded, and nothing
    // of the phone left in orders, customers or the ledger's values.
    private static async Task MeasureEraseAsync(FigureSet set, BenchDatabase database, AppUnderTest app)
    {
        var wall = set.Get("erase.wall",
            $"erase a customer with {EraseOrders:N0} orders and their ledger: wall, POST → Succeeded, p50 of {EraseSamples} (min–max)",
            "ms", Target.AtMost(1000, "ms"));
        var engine = set.Get("erase.job", $"the erase job's own time (Succeeded − Processing), p50 of {EraseSamples}", "ms");
        for (var i = 0; i < WarmUpSamples + EraseSamples; i++)
        {
            var (id, phone) = await CreatePersonToEraseAsync(database, app, i);
            var stopwatch = Stopwatch.StartNew();
            var (accepted, _) = await app.SendAsync(HttpMethod.Post, $"/api/customers/{id}/erase", null, HttpStatusCode.Accepted);
            var job = await app.WaitJobAsync((string)accepted["jobId"]!, stopwatch, ExactPollInterval);
            var left = await database.ScalarAsync<long>($"""
                SELECT (SELECT count(*) FROM orders WHERE normalized_phone = '{phone}')
                     + (SELECT count(*) FROM customers WHERE id = {id})
                     + (SELECT count(*) FROM customer_changes WHERE customer_id = {id}
                        AND field IN ('created', 'deleted', 'name', 'phone', 'email', 'city', 'address', 'notes')
                        AND (old_value IS NOT NULL OR new_value IS NOT NULL))
                """);
            if (left != 0)
                throw new InvalidOperationException($"erase job {job.JobId} succeeded but {left} row(s) of the person are left");
            if (i < WarmUpSamples)
                continue;
            wall.Add(job.WallMs);
            engine.Add(await database.ScalarAsync<double>($"""
                SELECT (1000 * extract(epoch FROM max(createdat) FILTER (WHERE name = 'Succeeded') - max(createdat) FILTER (WHERE name = 'Processing')))::float8
                FROM hangfire.state WHERE jobid = {job.JobId}
                """));
        }
        AddP99(set, wall, "erase.wall.p99", $"erase a customer with {EraseOrders:N0} orders: wall, p99 of {EraseSamples}");
        Log($"erase: wall p50 {wall.Median:F1} / p99 {wall.Percentile(0.99):F1} ms, job p50 {engine.Median:F1} ms");
    }

    // A customer for an erase: a new phone (+7495…, which the generator never makes, so the
    // generated orders stay as they were) with 999 orders loaded straight into `orders`, the
    // last one through the API (its sync creates the customer from all of them), and a
    // contact change (a ledger row of a personal field).
    private static async Task<(long Id, string Phone)> CreatePersonToEraseAsync(BenchDatabase database, AppUnderTest app, int number)
    {
        var phone = $"+7495{1_000_000 + number:D7}";
        var name = $"Стираемый {number}";
        await database.ExecuteAsync($"""
            INSERT INTO orders (customer_name, customer_phone, normalized_phone, customer_email, delivery_city,
                                delivery_address, total_amount, status, created_at, updated_at)
            SELECT '{name}', '{phone}', '{phone}', 'erase{number}@example.org', 'Казань', 'ул. Стирания, 1', 100 + g,
                   'completed', now() - g * interval '1 hour', now()
            FROM generate_series(1, {EraseOrders - 1}) AS g
            """);
        var (order, _) = await app.SendAsync(HttpMethod.Post, "/api/orders",
            new { customerName = name, customerPhone = phone, totalAmount = 1000m, status = "completed" }, HttpStatusCode.Created);
        await app.WaitJobAsync((string)order["syncJobId"]!);
        var id = await database.ScalarAsync<long>($"SELECT id FROM customers WHERE phone = '{phone}'");
        await app.SendAsync(HttpMethod.Patch, $"/api/customers/{id}", new { city = "Самара" }, HttpStatusCode.OK);
        return (id, phone);
    }

    // One more erase, on a fresh app whose sessions run auto_explain for every statement: the
    // plans of the erase job's statements (the words pick them out of the log among the job
    // polling's and the person's own sync).
    private async Task<string?> ErasePlansAsync(BenchDatabase database)
    {
        if (options.ServerLog is not { } serverLog || !File.Exists(serverLog))
            return null;
        await database.LogPlansAsync(minDurationMs: 0);
        try
        {
            // The customers are there: EnginePlansAsync's syncs ran last.
            await using var app = await AppUnderTest.StartAsync(options.AppDll, database.ConnectionString, AppLog("app-erase-explain"));
            var (id, _) = await CreatePersonToEraseAsync(database, app, 9_000);
            var start = new FileInfo(serverLog).Length;
            await app.RunJobAsync($"/api/customers/{id}/erase");
            return LedgerBenchmark.PlanEntries(serverLog, start,
                "erasures", "erased_phones", "customers WHERE id", "customer_notes", "DELETE FROM customers", "DELETE FROM orders", "customer_changes",
                "webhook_messages", "webhook_events", "customer_sync_requests", "sync_errors", "sync_runs SET", "shop_rejections",
                "shop_follower SET", "webhooks SET", "LIKE $");
        }
        finally
        {
            await database.ExecuteAsync($"ALTER DATABASE {database.Name} RESET ALL");
        }
    }
}
