namespace Crm.Bench.Http;

public sealed partial class HttpBench
{
    private sealed record Endpoint(string Name, string Url, string? Script, string Target, double? MaxP99Ms, bool Enqueues);

    private const string ListTarget = "p99 ≤ 20 ms";
    private const string EnqueueTarget = "p99 ≤ 10 ms";
    private const string SearchTarget = "p99 ≤ 25 ms";

    // The search terms: a common Russian surname (matches ~5% of the names), a Latin
    // fragment (matches ~5% of the e-mails), and 7 digits of one existing phone.
    private const string CyrillicSearch = "иванов";
    private const string LatinSearch = "petrov";
    // Issue 25: two words in the other order than the name's ("Иван Иванов"), and a phone
    // fragment as people type it, with the trunk prefix 8 and spaces.
    private const string TwoWordsSearch = "Иванов Иван";

    private Task<string> MiddlePhoneAsync() =>
        db.ScalarAsync<string>("SELECT phone FROM customers WHERE id = @id", ("id", (firstCustomerId + lastCustomerId) / 2));

    private async Task<List<Endpoint>> EndpointsAsync()
    {
        var phone = await MiddlePhoneAsync();
        var digits = phone[4..11];
        // "+79123456789" → "8 912 345": the same number's first digits, dialled at home.
        var fragment = $"8 {phone[2..5]} {phone[5..8]}";
        var api = app!.BaseUrl;
        return
        [
            new("GET /api/customers/{id} (random id)", api + "/api/customers/",
                Script("get-by-id", Wrk.RandomIdScript("/api/customers/", firstCustomerId, lastCustomerId)), "", null, false),
            new("GET /api/customers?page=3", api + "/api/customers?page=3", null, ListTarget, 20, false),
            new("GET /api/customers?category=vip&ordering=-totalSpent", api + "/api/customers?category=vip&ordering=-totalSpent",
                null, ListTarget, 20, false),
            new($"GET /api/customers?search={CyrillicSearch}", api + "/api/customers?search=" + Uri.EscapeDataString(CyrillicSearch),
                null, ListTarget, 20, false),
            new($"GET /api/customers?search={LatinSearch}", api + "/api/customers?search=" + LatinSearch, null, ListTarget, 20, false),
            new($"GET /api/customers?search={digits} (phone digits)", api + "/api/customers?search=" + digits, null, ListTarget, 20, false),
            new($"GET /api/customers?search={TwoWordsSearch} (two words)", api + "/api/customers?search=" + Uri.EscapeDataString(TwoWordsSearch),
                null, SearchTarget, 25, false),
            new($"GET /api/customers?search={fragment} (phone fragment)", api + "/api/customers?search=" + Uri.EscapeDataString(fragment),
                null, SearchTarget, 25, false),
            // Issue 25: each segment filter alone (the issue's target: p99 ≤ 25 ms at 200 000 customers).
            .. new[]
            {
                "category=vip&category=regular", "city=" + Uri.EscapeDataString("казань"), "minSpent=100000", "maxSpent=1000",
                "minOrders=10", "maxOrders=1", "lastOrderFrom=" + DateTime.UtcNow.AddDays(-30).ToString("yyyy-MM-dd"),
                "lastOrderTo=" + DateTime.UtcNow.AddDays(-170).ToString("yyyy-MM-dd"),
                "createdFrom=" + DateTime.UtcNow.AddDays(-1).ToString("yyyy-MM-dd"), "createdTo=2020-01-01",
            }.Select(filter => new Endpoint($"GET /api/customers?{Uri.UnescapeDataString(filter)} (segment)",
                api + "/api/customers?" + filter, null, SearchTarget, 25, false)),
            new("POST /api/customers/{id}/update-stats (random id)", api + "/api/customers/",
                Script("update-stats", Wrk.RandomIdScript("/api/customers/", firstCustomerId, lastCustomerId, "/update-stats", "POST")),
                EnqueueTarget, 10, true),
            new("POST /api/sync {\"mode\":\"statsOnly\"}", api + "/api/sync",
                Script("sync", Wrk.JsonPostScript("""{"mode":"statsOnly"}""")), EnqueueTarget, 10, true),
        ];
    }

    // Every endpoint: a warm-up, then -c1 (sequential) and -c16 (concurrent). The enqueue
    // endpoints leave jobs behind; the app's workers finish them before the next run, so
    // every run starts from a quiet app (the jobs of the run itself do compete with it).
    private async Task LatencyAsync()
    {
        Section($"HTTP latency: wrk -t1, {options.DurationSeconds} s per run, {options.WarmupSeconds} s warm-up per endpoint");
        await SanityCheckAsync();
        foreach (var endpoint in await EndpointsAsync())
        {
            if (options.WarmupSeconds > 0)
            {
                await Wrk.RunAsync(endpoint.Url, 16, options.WarmupSeconds, endpoint.Script, ApiKey);
                await IdleAsync(endpoint);
            }
            foreach (var connections in new[] { 1, 16 })
            {
                var result = await Wrk.RunAsync(app!, endpoint.Url, connections, options.DurationSeconds, endpoint.Script, ApiKey);
                bool? met = endpoint.MaxP99Ms is { } max ? result.P99Ms <= max && result.Non2xx + result.SocketErrors == 0 : null;
                var row = new LatencyRow(endpoint.Name, connections, result.P50Ms, result.P99Ms, result.RequestsPerSecond,
                    result.Requests, result.Non2xx + result.SocketErrors, result.ServerCpuUsPerRequest, endpoint.Target, met);
                report.Latency.Add(row);
                Console.WriteLine($"  {row.Endpoint,-60} c{connections,-3} p50 {Report.Format(row.P50Ms, "ms"),7} ms  " +
                    $"p99 {Report.Format(row.P99Ms, "ms"),7} ms  {Report.Format(row.RequestsPerSecond, "req/s"),7} req/s  " +
                    $"{Report.Format(row.ServerCpuUsPerRequest, "µs"),5} µs cpu/req" +
                    (row.Errors > 0 ? $"  {row.Errors} non-2xx/errors" : ""));
                if (endpoint.Target != "")
                    report.Add($"{endpoint.Name} p99 c{connections}", result.P99Ms, "ms", endpoint.Target, met);
                await IdleAsync(endpoint);
            }
        }
    }

    private async Task IdleAsync(Endpoint endpoint)
    {
        if (!endpoint.Enqueues)
            return;
        var waited = await WaitIdleAsync(endpoint.Name, TimeSpan.FromMinutes(3), quiet: TimeSpan.FromSeconds(2));
        Console.WriteLine($"    (the app's workers finished the enqueued jobs {waited.TotalSeconds:0.0} s after the run)");
    }

    // One request of each kind before measuring: a wrong key, route or status would
    // otherwise be measured as a fast error.
    private async Task SanityCheckAsync()
    {
        using var http = ApiClient(app!.BaseUrl);
        foreach (var path in new[] { $"/api/customers/{firstCustomerId}", "/api/customers?page=3", "/api/customers?category=vip&ordering=-totalSpent" })
        {
            using var response = await http.GetAsync(path);
            if (!response.IsSuccessStatusCode)
                throw new InvalidOperationException($"GET {path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
    }
}
