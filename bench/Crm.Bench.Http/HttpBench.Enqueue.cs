using System.Collections.Concurrent;
using System.Diagnostics;

namespace Crm.Bench.Http;

public sealed partial class HttpBench
{
    // The job engine's settings before issue 23 (section 5): the same-run baseline.
    private static readonly Dictionary<string, string> OldJobSettings = new()
    {
        ["Crm__Jobs__UseNativeDatabaseTransactions"] = "false",
        ["Crm__Jobs__EnableLongPolling"] = "true",
    };

    private const int EnqueueClients = 8;
    private static readonly TimeSpan IdleWindow = TimeSpan.FromSeconds(20);
    // pg_stat_database hears of an idle backend's commits up to 10 s late.
    private static readonly TimeSpan StatisticsLag = TimeSpan.FromSeconds(12);

    // POST /api/customers/{id}/update-stats with the job server in the same process (role
    // all): at a steady rate and from 8 concurrent clients, old and new job settings
    // alternately, each in an app of its own; then what one job costs PostgreSQL.
    private async Task EnqueueCostAsync()
    {
        Section($"Enqueue: {options.EnqueueRounds} round(s) of old and new job settings, {options.DurationSeconds} s per run, " +
            $"{options.EnqueueRate} req/s steady and c{EnqueueClients}");
        if (app is not null)
        {
            await app.DisposeAsync();
            app = null;
        }
        await WaitIdleAsync("the earlier phases", TimeSpan.FromMinutes(3));
        var counter = new StatementCounter(db.AdminConnectionString);
        var counting = await counter.TryEnableAsync();
        if (!counting)
            Console.WriteLine("  pg_stat_statements is not loaded (start the server with bench/http.sh): no statement counts");

        var runs = new List<object>();
        var costs = new Dictionary<string, object>();
        for (var round = 1; round <= options.EnqueueRounds; round++)
        {
            foreach (var (setting, extra) in new[] { ("old", OldJobSettings), ("new", new Dictionary<string, string>()) })
            {
                await using var server = await StartAppAsync($"enqueue-{setting}-{round}", "all", extra);
                using var http = ApiClient(server.BaseUrl, 64);
                await SteadyEnqueuesAsync(http, rate: 20, TimeSpan.FromSeconds(options.WarmupSeconds + 1));
                await WaitIdleAsync("the warm-up", TimeSpan.FromMinutes(2), quiet: TimeSpan.FromSeconds(1));

                var steady = await SteadyEnqueuesAsync(http, options.EnqueueRate, TimeSpan.FromSeconds(options.DurationSeconds));
                await WaitIdleAsync("the steady run", TimeSpan.FromMinutes(2), quiet: TimeSpan.FromSeconds(1));
                var concurrent = await ConcurrentEnqueuesAsync(http, EnqueueClients, TimeSpan.FromSeconds(options.DurationSeconds));
                await WaitIdleAsync("the concurrent run", TimeSpan.FromMinutes(3), quiet: TimeSpan.FromSeconds(1));
                Print($"{setting}, round {round}, {options.EnqueueRate} req/s", steady);
                Print($"{setting}, round {round}, c{EnqueueClients}", concurrent);
                var inside = await ServerSideAsync(http);
                Console.WriteLine($"    the app's own view: {inside}");
                runs.Add(new { setting, round, steady = Summary(steady), concurrent = Summary(concurrent), inside });
                report.Add($"enqueue update-stats p99, {setting} settings, {options.EnqueueRate} req/s, round {round}",
                    Stats.Percentile(steady, 99), "ms", "≤ 20 ms", setting == "new" ? Stats.Percentile(steady, 99) <= 20 : null);
                report.Add($"enqueue update-stats p99, {setting} settings, c{EnqueueClients}, round {round}",
                    Stats.Percentile(concurrent, 99), "ms");

                if (counting && round == 1)
                    costs[setting] = await JobCostAsync(counter, http, setting);
            }
        }
        report.Details["enqueue"] = new { oldSettings = OldJobSettings, runs, costs };
    }

    // Where a request's time goes, as the app measures it (GET /metrics, OpenTelemetry):
    // Kestrel's own duration of the enqueue requests so far (the rest of the client's time
    // is queueing before Kestrel reads the request), and the thread pool's state now.
    private static async Task<string> ServerSideAsync(HttpClient http)
    {
        var lines = (await http.GetStringAsync("/metrics")).Split('\n');
        double Sum(string prefix) => lines
            .Where(l => l.StartsWith(prefix, StringComparison.Ordinal) && l.Contains("update-stats"))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        var count = Sum("http_server_request_duration_seconds_count");
        var mean = count > 0 ? Sum("http_server_request_duration_seconds_sum") / count * 1000 : double.NaN;
        var pool = lines.Where(l => l.Contains("thread_pool") && !l.StartsWith('#')).Select(l => l.Trim());
        return $"{count:0} requests, mean {mean:0.0} ms inside Kestrel; {string.Join("; ", pool)}";
    }

    private static void Print(string title, List<double> latencies) =>
        Console.WriteLine($"  {title,-34} p50 {Stats.Median(latencies),6:0.0} ms  p99 {Stats.Percentile(latencies, 99),6:0.0} ms  " +
            $"max {latencies.Max(),6:0.0} ms  ({latencies.Count} requests)");

    private static object Summary(List<double> latencies) => new
    {
        requests = latencies.Count,
        p50Ms = Math.Round(Stats.Median(latencies), 2),
        p99Ms = Math.Round(Stats.Percentile(latencies, 99), 2),
        maxMs = Math.Round(latencies.Max(), 2),
    };

    // Open loop: each request leaves at its scheduled time whether or not the one before
    // has been answered, so a slow answer does not hide the ones queued behind it.
    private async Task<List<double>> SteadyEnqueuesAsync(HttpClient http, int rate, TimeSpan duration)
    {
        var latencies = new ConcurrentBag<double>();
        var sending = new List<Task>();
        var clock = Stopwatch.StartNew();
        var count = (int)(rate * duration.TotalSeconds);
        for (var i = 0; i < count; i++)
        {
            var due = TimeSpan.FromSeconds((double)i / rate) - clock.Elapsed;
            if (due > TimeSpan.Zero)
                await Task.Delay(due);
            sending.Add(EnqueueOneAsync(http, latencies));
        }
        await Task.WhenAll(sending);
        return [.. latencies];
    }

    private async Task<List<double>> ConcurrentEnqueuesAsync(HttpClient http, int clients, TimeSpan duration)
    {
        var latencies = new ConcurrentBag<double>();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            while (clock.Elapsed < duration)
                await EnqueueOneAsync(http, latencies);
        }));
        return [.. latencies];
    }

    private async Task EnqueueOneAsync(HttpClient http, ConcurrentBag<double> latencies)
    {
        var id = Random.Shared.NextInt64(firstCustomerId, lastCustomerId + 1);
        var started = Stopwatch.GetTimestamp();
        using var response = await http.PostAsync($"/api/customers/{id}/update-stats", null);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if ((int)response.StatusCode != 202)
            throw new InvalidOperationException($"update-stats of customer {id} answered {(int)response.StatusCode}");
        latencies.Add(elapsed);
    }

    // What PostgreSQL does per job over its whole life (the request, enqueue, fetch,
    // processing, succeeded): the counts of a window with N jobs, less those of an idle
    // window of the same app at the same rate per second (the polling).
    private async Task<object> JobCostAsync(StatementCounter counter, HttpClient http, string setting)
    {
        var start = await counter.TakeAsync();
        await Task.Delay(IdleWindow);
        var idle = await counter.TakeAsync();

        var jobs = options.CostJobs;
        for (var i = 0; i < jobs; i++)
        {
            using var response = await http.PostAsync($"/api/customers/{firstCustomerId + i}/update-stats", null);
            if ((int)response.StatusCode != 202)
                throw new InvalidOperationException($"update-stats answered {(int)response.StatusCode}");
            await Task.Delay(50);
        }
        // Each wait query is one transaction of the benchmark's own, taken off below.
        var ownCommits = 0L;
        var deadline = Stopwatch.StartNew();
        while (await db.ScalarAsync<long>($"""
            SELECT count(*) /* {StatementCounter.Marker} */ FROM hangfire.job WHERE statename IN ('Enqueued', 'Processing')
            """) > 0 && deadline.Elapsed < TimeSpan.FromMinutes(2))
        {
            ownCommits++;
            await Task.Delay(100);
        }
        ownCommits++;
        await Task.Delay(StatisticsLag);
        var end = await counter.TakeAsync();

        var idleSeconds = (idle.At - start.At).TotalSeconds;
        var busySeconds = (end.At - idle.At).TotalSeconds;
        double PerJob(long busy, long quiet) => (busy - quiet * busySeconds / idleSeconds) / jobs;
        long Calls(StatementCounter.Snapshot s, long id) => s.Statements.TryGetValue(id, out var st) ? st.Calls : 0;
        double Ms(StatementCounter.Snapshot s, long id) => s.Statements.TryGetValue(id, out var st) ? st.TotalMs : 0;

        var rows = end.Statements
            .Select(pair => new
            {
                query = Shorten(pair.Value.Query),
                perJob = Math.Round(PerJob(pair.Value.Calls - Calls(idle, pair.Key), Calls(idle, pair.Key) - Calls(start, pair.Key)), 2),
                idlePerSecond = Math.Round((Calls(idle, pair.Key) - Calls(start, pair.Key)) / idleSeconds, 2),
                // Server-side execution time per call while the jobs ran (a COMMIT's is its WAL flush).
                meanMs = Math.Round((pair.Value.TotalMs - Ms(idle, pair.Key)) / Math.Max(1, pair.Value.Calls - Calls(idle, pair.Key)), 3),
            })
            .Where(r => Math.Abs(r.perJob) >= 0.05 || r.idlePerSecond >= 0.05)
            .OrderByDescending(r => r.perJob)
            .ToList();
        var statements = rows.Sum(r => r.perJob);
        var commits = PerJob(end.Commits - idle.Commits - ownCommits, idle.Commits - start.Commits);
        var walSyncs = PerJob(end.WalSyncs - idle.WalSyncs, idle.WalSyncs - start.WalSyncs);
        Console.WriteLine($"  per job, {setting} settings ({jobs} jobs, idle rates taken off): {statements:0.0} statements, " +
            $"{commits:0.0} commits, {walSyncs:0.0} WAL flushes; idle: {rows.Sum(r => r.idlePerSecond):0.0} statements/s, " +
            $"{(idle.Commits - start.Commits) / idleSeconds:0.0} commits/s");
        foreach (var row in rows)
            Console.WriteLine($"    {row.perJob,6:0.00} /job  {row.idlePerSecond,5:0.00} /s idle  {row.meanMs,7:0.000} ms  {row.query}");
        report.Add($"statements per job, {setting} settings", statements, "");
        report.Add($"commits per job, {setting} settings", commits, "");
        return new
        {
            jobs,
            statementsPerJob = Math.Round(statements, 2),
            commitsPerJob = Math.Round(commits, 2),
            walFlushesPerJob = Math.Round(walSyncs, 2),
            idleCommitsPerSecond = Math.Round((idle.Commits - start.Commits) / idleSeconds, 2),
            statements = rows,
        };
    }

    private static string Shorten(string query)
    {
        var oneLine = string.Join(' ', query.Split((char[])[' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries));
        return oneLine.Length <= 110 ? oneLine : oneLine[..110] + "…";
    }
}
