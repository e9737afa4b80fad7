using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Crm.Bench.Http;

// The whole run: database, servers as child processes, the phases, the report. Each
// phase lives in its own file (HttpBench.*.cs).
public sealed partial class HttpBench(BenchOptions options, BenchDatabase db)
{
    // The benchmark's own admin key: the app refuses to start without keys outside Development,
    // and the figures are meant with authentication on.
    private const string ApiKey = "bench-key-0123456789abcdef";

    private readonly Report report = new();
    private readonly string scripts = Directory.CreateTempSubdirectory("crm-bench-wrk-").FullName;
    private string resultsDir = "";
    private string logDir = "";
    private ChildProcess? app;
    private ChildProcess? peer;
    private long firstCustomerId;
    private long lastCustomerId;

    private string AppDll => options.AppDll ?? Path.Combine(options.Root, "Crm.Api", "bin", "Release", "net10.0", "Crm.Api.dll");
    private string PeerDll => Path.Combine(options.Root, "bench", "BarePeer", "bin", "Release", "net10.0", "BarePeer.dll");

    public async Task<int> RunAsync()
    {
        resultsDir = Path.Combine(options.Root, "bench", "results");
        logDir = Path.Combine(resultsDir, $"http-{report.StartedAt:yyyyMMdd-HHmmss}-logs");
        Directory.CreateDirectory(logDir);
        foreach (var dll in new[] { AppDll, PeerDll })
        {
            if (!File.Exists(dll))
                throw new FileNotFoundException($"{dll} is missing: build it in Release first (bench/http.sh does)");
        }

        try
        {
            await PrepareDatabaseAsync();
            report.Machine = await Machine.DescribeAsync(db);
            Section("Machine");
            foreach (var (key, value) in report.Machine)
                Console.WriteLine($"  {key,-20} {value}");
            report.Settings["durationSeconds"] = options.DurationSeconds;
            report.Settings["warmupSeconds"] = options.WarmupSeconds;
            report.Settings["runs"] = options.Runs;
            report.Settings["customers"] = await db.ScalarAsync<long>("SELECT count(*) FROM customers");
            report.Settings["orders"] = await db.ScalarAsync<long>("SELECT count(*) FROM orders");
            report.Settings["phases"] = options.Phases.ToArray();
            report.Settings["appEnvironment"] = options.AppEnvironment;
            var commits = await db.CommitLatenciesAsync(200);
            Console.WriteLine($"  {"commit latency",-20} one-row INSERT, autocommit, 200 in a row: p50 {Stats.Median(commits):0.00} ms, " +
                $"p99 {Stats.Percentile(commits, 99):0.00} ms (the floor of every write transaction)");
            report.Add("PostgreSQL one-row commit (fsync on) p50", Stats.Median(commits), "ms");
            report.Add("PostgreSQL one-row commit (fsync on) p99", Stats.Percentile(commits, 99), "ms");
            firstCustomerId = await db.ScalarAsync<long>("SELECT min(id) FROM customers");
            lastCustomerId = await db.ScalarAsync<long>("SELECT max(id) FROM customers");

            app = await StartAppAsync("app", "all");
            if (options.Has("latency") || options.Has("peer"))
                peer = await StartPeerAsync();

            if (options.Has("latency"))
                await LatencyAsync();
            if (options.Has("csv"))
                await CsvExportAsync();
            if (options.Has(BenchOptions.ExplainPhase))
                await ExplainAsync();
            if (options.Has("peer"))
                await PeerAsync();
            if (peer is not null)
            {
                await peer.DisposeAsync();
                peer = null;
            }
            if (options.Has("burst"))
                await BurstAsync();
            if (options.Has("noop"))
                await HangfireNoopAsync();
            if (options.Has("pickup"))
                await PickupAsync();
            // Last: it starts an app of its own per setting.
            if (options.Has(BenchOptions.EnqueuePhase))
                await EnqueueCostAsync();
            if (options.Has(BenchOptions.SoakPhase))
            {
                // The soak runs its own processes: the role-all app's job servers would take its jobs.
                await app.DisposeAsync();
                app = null;
                await SoakAsync();
            }
        }
        finally
        {
            if (peer is not null)
                await peer.DisposeAsync();
            if (app is not null)
                await app.DisposeAsync();
            Directory.Delete(scripts, recursive: true);
        }

        report.Machine["loadAverageAtEnd"] = Machine.LoadAverage();
        Section("Results");
        if (report.Latency.Count > 0)
        {
            Console.WriteLine(report.LatencyTable());
        }
        Console.WriteLine(report.FigureTable());
        Console.WriteLine($"load average at start {report.Machine["loadAverageAtStart"]}, at end {report.Machine["loadAverageAtEnd"]} (1/5/15 min)");
        var path = await report.WriteJsonAsync(resultsDir);
        Console.WriteLine($"JSON: {path}");
        Console.WriteLine($"server logs: {logDir}");
        return 0;
    }

    private async Task PrepareDatabaseAsync()
    {
        Section("Database");
        if (options.ReuseDatabase && await db.HasCustomersAsync(options.Customers))
        {
            Console.WriteLine($"  reusing database {BenchDatabase.Name} (--reuse-db)");
            return;
        }
        var stopwatch = Stopwatch.StartNew();
        await db.RecreateAsync();
        await ChildProcess.RunToEndAsync("migrate", AppDll, ["migrate"], AppEnvironment(), Log("migrate"), TimeSpan.FromMinutes(5));
        Console.WriteLine($"  created {BenchDatabase.Name} and migrated it in {stopwatch.Elapsed.TotalSeconds:0.0} s");
        var seeded = await db.SeedAsync(options.Customers);
        var orders = await db.ScalarAsync<long>("SELECT count(*) FROM orders");
        Console.WriteLine($"  seeded {options.Customers:N0} customers and {orders:N0} orders (SQL generate_series, VACUUM ANALYZE) in {seeded.TotalSeconds:0.0} s");
        report.Details["seedSeconds"] = Math.Round(seeded.TotalSeconds, 2);
    }

    // The app's configuration for every process of it: production, no recurring syncs to
    // disturb the measurements, the benchmark's API key, and a rate limit far above any
    // load generated here (the limiter still runs on every request).
    private Dictionary<string, string> AppEnvironment(string role = "all", IReadOnlyDictionary<string, string>? extra = null)
    {
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__Crm"] = db.ConnectionString,
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Crm__Role"] = role,
            ["Crm__Privacy__HashKey"] = "bench-only-privacy-hash-key-0123456789",
            ["Crm__Sync__Cron"] = "",
            ["Crm__Sync__PendingCron"] = "",
            ["Crm__Auth__ApiKeys__0__Name"] = "bench",
            ["Crm__Auth__ApiKeys__0__Key"] = ApiKey,
            ["Crm__Auth__ApiKeys__0__Roles"] = "admin",
            ["Crm__RateLimit__PermitsPerMinute"] = "1000000000",
        };
        foreach (var (key, value) in options.AppEnvironment.Concat(extra ?? new Dictionary<string, string>()))
            environment[key] = value;
        return environment;
    }

    private async Task<ChildProcess> StartAppAsync(string name, string role, IReadOnlyDictionary<string, string>? extra = null)
    {
        var port = FreePort();
        var child = ChildProcess.Start(name, AppDll, ["--role", role], port, AppEnvironment(role, extra), Log(name));
        await child.WaitReadyAsync("/health/ready", TimeSpan.FromMinutes(2));
        Console.WriteLine($"  started {name}: Crm.Api.dll --role {role} on {child.BaseUrl} (pid {child.Id})");
        return child;
    }

    private async Task<ChildProcess> StartPeerAsync()
    {
        var port = FreePort();
        var child = ChildProcess.Start("bare-peer", PeerDll, [], port,
            new Dictionary<string, string> { ["ConnectionStrings__Crm"] = db.ConnectionString, ["ASPNETCORE_ENVIRONMENT"] = "Production" },
            Log("bare-peer"));
        await child.WaitReadyAsync("/health", TimeSpan.FromMinutes(1));
        Console.WriteLine($"  started bare peer: BarePeer.dll on {child.BaseUrl} (pid {child.Id})");
        return child;
    }

    // Lets the app's workers finish what a measurement left behind. A job that does not
    // start is a finding, not a reason to stop: it is printed and kept in the JSON.
    private async Task<TimeSpan> WaitIdleAsync(string after, TimeSpan timeout, TimeSpan? quiet = null)
    {
        var (idle, waited, stuck) = await db.WaitForIdleJobsAsync(timeout, quiet);
        if (!idle)
        {
            Console.WriteLine($"  WARNING: jobs still queued or running {timeout.TotalSeconds:0} s after {after}:");
            foreach (var job in stuck)
                Console.WriteLine($"    {job}");
            stuckJobs.Add(new { after, waitedSeconds = waited.TotalSeconds, jobs = stuck });
            report.Details["stuckJobs"] = stuckJobs;
        }
        return waited;
    }

    private readonly List<object> stuckJobs = [];

    private string Log(string name) => Path.Combine(logDir, name + ".log");

    private HttpClient ApiClient(string baseUrl, int connections = 16)
    {
        var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = connections })
        {
            BaseAddress = new Uri(baseUrl),
            Timeout = TimeSpan.FromSeconds(60),
        };
        http.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
        return http;
    }

    private string Script(string name, string text)
    {
        var path = Path.Combine(scripts, name + ".lua");
        File.WriteAllText(path, text);
        return path;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void Section(string title) => Console.WriteLine($"\n== {title} ({DateTime.UtcNow:HH:mm:ss} UTC)");
}
