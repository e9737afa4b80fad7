using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace Crm.Bench.Http;

public sealed partial class HttpBench
{
    private const int PickupWarmupSamples = 3;

    // Enqueue → start of a cheap job (POST /api/customers/{id}/update-stats), one at a time
    // on an idle app: first with the job server in the same process (role all), then with
    // the API in one process (role api) and the job server in another (role worker).
    // Times from Hangfire's own records: the job's createdAt and its Processing state.
    private async Task PickupAsync()
    {
        Section($"Job pick-up latency: {options.PickupSamples} samples per setting, after {PickupWarmupSamples} warm-up jobs");
        await WaitIdleAsync("the earlier phases", TimeSpan.FromMinutes(3));
        var sameProcess = await PickupSamplesAsync(app!.BaseUrl);
        Publish("job server in the same process (role all)", "same process", sameProcess, target: false);

        // No job server may run besides the worker: stop the `all` app first.
        await app.DisposeAsync();
        app = null;
        await using var api = await StartAppAsync("api", "api");
        await ProfileWritesAsync(api.BaseUrl);
        await using var worker = await StartAppAsync("worker", "worker");
        await WaitIdleAsync("the profile's jobs", TimeSpan.FromMinutes(2));
        var separate = await PickupSamplesAsync(api.BaseUrl);
        Publish("job server in a separate worker process", "worker process", separate, target: true);

        report.Details["pickup"] = new
        {
            queuePollInterval = "00:00:02 (Crm:Jobs:QueuePollInterval); role all wakes its own workers, api and worker use LISTEN/NOTIFY",
            sameProcessMs = sameProcess,
            workerProcessMs = separate,
        };

        void Publish(string title, string shortName, List<double> samples, bool target)
        {
            var p50 = Stats.Median(samples);
            var p99 = Stats.Percentile(samples, 99);
            Console.WriteLine($"  {title}: p50 {p50:0.0} ms, p99 {p99:0.0} ms (min {samples.Min():0.0}, max {samples.Max():0.0})");
            if (target)
                report.Add($"job pick-up p50, {shortName}", p50, "ms", "≤ 50 ms", p50 <= 50);
            else
                report.Add($"job pick-up p50, {shortName}", p50, "ms");
            report.Add($"job pick-up p99, {shortName}", p99, "ms");
        }
    }

    // While no job server runs anywhere (role api alone), what one request of the two write
    // paths costs by itself: its latency, and how many write transactions it commits (each
    // one a WAL flush with fsync on; see the commit latency figure).
    private async Task ProfileWritesAsync(string baseUrl)
    {
        const int count = 30;
        using var http = ApiClient(baseUrl, 1);
        var customers = await db.BurstCustomersAsync(count);

        async Task Measure(string name, Func<int, Task<HttpResponseMessage>> send)
        {
            var latencies = new List<double>();
            var xidBefore = await db.NextXidAsync();
            for (var i = 0; i < count; i++)
            {
                var start = Stopwatch.GetTimestamp();
                using var response = await send(i);
                latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                response.EnsureSuccessStatusCode();
            }
            var perRequest = (await db.NextXidAsync() - xidBefore) / (double)count;
            Console.WriteLine($"  {name}, sequential, no job server running: p50 {Stats.Median(latencies):0.0} ms, " +
                $"p99 {Stats.Percentile(latencies, 99):0.0} ms, {perRequest:0.0} write transactions per request");
            report.Add($"{name} alone, sequential: p50", Stats.Median(latencies), "ms");
            report.Add($"{name} alone: write transactions/request", perRequest, "xacts");
        }

        // Each request for another customer, so that each one enqueues a job of its own.
        await Measure("POST …/update-stats",
            i => http.PostAsync($"/api/customers/{customers[i].Id}/update-stats", null));
        await Measure("POST /api/orders", i => http.PostAsJsonAsync("/api/orders", OrderBody(i, [customers[i]])));
    }

    private async Task<List<double>> PickupSamplesAsync(string baseUrl)
    {
        using var http = ApiClient(baseUrl, 1);
        var random = new Random(7);
        var samples = new List<double>();
        for (var i = 0; i < PickupWarmupSamples + options.PickupSamples; i++)
        {
            var id = random.NextInt64(firstCustomerId, lastCustomerId + 1);
            using var response = await http.PostAsync($"/api/customers/{id}/update-stats", null);
            response.EnsureSuccessStatusCode();
            var accepted = await response.Content.ReadFromJsonAsync<JsonElement>();
            var jobId = long.Parse(accepted.GetProperty("jobId").GetString()!);
            await WaitJobFinishedAsync(jobId);
            var pickup = await db.ScalarAsync<double>("""
                SELECT extract(epoch FROM (SELECT min(s.createdat) FROM hangfire.state s
                                           WHERE s.jobid = j.id AND s.name = 'Processing') - j.createdat)::float8 * 1000
                FROM hangfire.job j WHERE j.id = @id
                """, ("id", jobId));
            if (i >= PickupWarmupSamples)
                samples.Add(pickup);
            // A pause of varying length, so that samples do not fall in step with any poll.
            await Task.Delay(random.Next(20, 80));
        }
        return samples;
    }

    private async Task WaitJobFinishedAsync(long jobId)
    {
        var deadline = Stopwatch.StartNew();
        while (await db.ScalarAsync<string?>("SELECT statename FROM hangfire.job WHERE id = @id", ("id", jobId)) is not ("Succeeded" or "Failed"))
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(60))
                throw new TimeoutException($"job {jobId} not finished after 60 s");
            await Task.Delay(5);
        }
    }
}
