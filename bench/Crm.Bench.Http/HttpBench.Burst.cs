using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Crm.Bench.Http;

public sealed partial class HttpBench
{
    private static readonly string[] OtherStatuses = ["new", "processing", "cancelled"];

    // N order writes over M existing customers through POST /api/orders, from a few
    // concurrent clients as fast as they go; then how long until every one of those
    // customers' statistics are exact, and how many sync jobs it took.
    private async Task BurstAsync()
    {
        Section($"Burst: {options.BurstWrites:N0} POST /api/orders over {options.BurstCustomers:N0} customers from {options.BurstClients} concurrent clients");
        await WaitIdleAsync("the earlier phases", TimeSpan.FromMinutes(3));
        var customers = await db.BurstCustomersAsync(options.BurstCustomers);
        var phones = customers.Select(c => c.Phone).ToArray();
        var stale = await db.StaleCustomersAsync(phones);
        if (stale > 0)
            Console.WriteLine($"  note: {stale} of these customers were not exact before the burst");
        var jobsBefore = await db.MaxJobIdAsync();

        using var http = ApiClient(app!.BaseUrl, options.BurstClients);
        var syncJobIds = new ConcurrentDictionary<string, byte>();
        var latencies = new ConcurrentBag<double>();
        var errors = new ConcurrentBag<string>();
        var next = -1;
        var clock = Stopwatch.StartNew();
        var lastResponse = TimeSpan.Zero;
        var gate = new object();

        async Task Client()
        {
            while (true)
            {
                var n = Interlocked.Increment(ref next);
                if (n >= options.BurstWrites)
                    return;
                var body = OrderBody(n, customers);
                var sent = clock.Elapsed;
                using var response = await http.PostAsJsonAsync("/api/orders", body);
                var answered = clock.Elapsed;
                latencies.Add((answered - sent).TotalMilliseconds);
                lock (gate)
                {
                    if (answered > lastResponse)
                        lastResponse = answered;
                }
                if (response.StatusCode != HttpStatusCode.Created)
                {
                    errors.Add($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                    continue;
                }
                using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                if (json.RootElement.TryGetProperty("syncJobId", out var job) && job.ValueKind == JsonValueKind.String)
                    syncJobIds.TryAdd(job.GetString()!, 0);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, options.BurstClients).Select(_ => Task.Run(Client)));
        var writesPerSecond = options.BurstWrites / lastResponse.TotalSeconds;
        Console.WriteLine($"  {options.BurstWrites:N0} writes in {lastResponse.TotalSeconds:0.00} s: {writesPerSecond:N0} writes/s; " +
            $"POST /api/orders p50 {Stats.Median(latencies):0.0} ms, p99 {Stats.Percentile(latencies, 99):0.0} ms; {errors.Count} errors");
        foreach (var error in errors.Take(3))
            Console.WriteLine($"    error: {error}");

        // Poll every ~20 ms with one query comparing the customers to their orders; the
        // query's snapshot is taken when it starts, so that is when they were fresh.
        var timeout = TimeSpan.FromSeconds(180);
        double freshSeconds = double.NaN;
        var polls = 0;
        while (clock.Elapsed - lastResponse < timeout)
        {
            var pollStart = clock.Elapsed;
            stale = await db.StaleCustomersAsync(phones);
            polls++;
            if (stale == 0)
            {
                freshSeconds = Math.Max(0, (pollStart - lastResponse).TotalSeconds);
                break;
            }
            var wait = TimeSpan.FromMilliseconds(20) - (clock.Elapsed - pollStart);
            if (wait > TimeSpan.Zero)
                await Task.Delay(wait);
        }
        Console.WriteLine(double.IsNaN(freshSeconds)
            ? $"  NOT fresh {timeout.TotalSeconds:0} s after the last write: {stale} customers still differ from their orders"
            : $"  all {customers.Count:N0} customers exact {freshSeconds:0.00} s after the last write's response ({polls} polls)");

        await WaitIdleAsync("the burst", TimeSpan.FromMinutes(5));
        var states = await db.JobStatesAsync(jobsBefore);
        var jobs = states.Values.Sum();
        var writesPerJob = options.BurstWrites / (double)Math.Max(1, jobs);
        Console.WriteLine($"  jobs created: {jobs:N0} ({string.Join(", ", states.Select(s => $"{s.Value:N0} {s.Key}"))}); " +
            $"distinct syncJobIds returned: {syncJobIds.Count:N0}; {writesPerJob:0.0} writes per job (target ≥ 50)");

        var target = options.BurstWrites / 50;
        report.Add("burst: order writes/s (POST /api/orders)", writesPerSecond, "writes/s");
        report.Add("burst: POST /api/orders p99 during the burst", Stats.Percentile(latencies, 99), "ms");
        report.Add("burst: customers exact after the last write", freshSeconds, "s", "≤ 3 s", freshSeconds <= 3);
        report.Add("burst: customer sync jobs created", jobs, "jobs", $"≤ {target:N0}", jobs <= target);
        report.Add("burst: writes per job", writesPerJob, "writes", "≥ 50", writesPerJob >= 50);
        report.Details["burst"] = new
        {
            writes = options.BurstWrites,
            customers = customers.Count,
            clients = options.BurstClients,
            seconds = lastResponse.TotalSeconds,
            writesPerSecond,
            errors = errors.Count,
            firstErrors = errors.Take(5).ToArray(),
            postP50Ms = Stats.Median(latencies),
            postP99Ms = Stats.Percentile(latencies, 99),
            freshSecondsAfterLastWrite = freshSeconds,
            stillStale = stale,
            polls,
            jobsCreated = jobs,
            jobStates = states,
            distinctSyncJobIds = syncJobIds.Count,
            writesPerJob,
        };
    }

    // Write n: a random one of the customers (reproducible), its phone spelled one of the
    // ways a shop sends it, 75% completed.
    private static object OrderBody(int n, List<BurstCustomer> customers)
    {
        var random = new Random(n);
        var customer = customers[random.Next(customers.Count)];
        var digits = customer.Phone[2..]; // "+7" then 10 digits
        var phone = (n % 4) switch
        {
            0 => customer.Phone,
            1 => "8" + digits,
            2 => $"8 ({digits[..3]}) {digits[3..6]}-{digits[6..8]}-{digits[8..]}",
            _ => $"+7 {digits[..3]} {digits[3..6]} {digits[6..8]} {digits[8..]}",
        };
        return new
        {
            customerName = customer.Name,
            customerPhone = phone,
            customerEmail = customer.Email,
            deliveryCity = customer.City,
            totalAmount = Math.Round(500 + (decimal)random.NextDouble() * 20_000, 2),
            status = random.Next(4) == 0 ? OtherStatuses[random.Next(OtherStatuses.Length)] : "completed",
        };
    }
}
