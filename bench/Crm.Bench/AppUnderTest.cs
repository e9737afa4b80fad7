using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Crm.Bench;

public sealed record JobOutcome(string JobId, double WallMs, JsonNode? Result)
{
    public double DurationMs => Result?["durationMs"]?.GetValue<double>() ?? double.NaN;
    public int Int(string name) => Result?[name]?.GetValue<int>() ?? 0;
}

public sealed record ImportOutcome(int Imported, int Rejected, string? JobId, double RequestMs, long Bytes);

// The real app as a child process (`dotnet Crm.Api.dll`), production settings, on its own port,
// driven only through HTTP like any client.
public sealed class AppUnderTest : IAsyncDisposable
{
    // Polling GET /api/jobs/{id} costs the app CPU too; 25 ms keeps that small on 2 cores
    // for jobs of seconds. Jobs of milliseconds (one customer's statistics) are polled at
    // FastPollInterval, so the polling does not dominate what is measured.
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(25);
    public static readonly TimeSpan FastPollInterval = TimeSpan.FromMilliseconds(3);

    // A fresh key per bench process; it never leaves this machine.
    private static readonly string ApiKey = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));

    // A job that takes longer than this is reported as a failed measurement instead of
    // hanging the bench (a bad plan can turn a seconds-long sync into hours).
    public static TimeSpan JobTimeout { get; set; } = TimeSpan.FromMinutes(15);

    // If the bench is stopped (Ctrl-C, kill, closed terminal), its apps must not outlive it.
    private static readonly HashSet<AppUnderTest> Running = [];
    private static readonly List<PosixSignalRegistration> StopSignals = [];

    static AppUnderTest()
    {
        foreach (var signal in new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT, PosixSignal.SIGHUP })
            StopSignals.Add(PosixSignalRegistration.Create(signal, _ => KillAll()));
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
    }

    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly HttpClient _http;

    private AppUnderTest(Process process, StreamWriter log, HttpClient http)
    {
        _process = process;
        _log = log;
        _http = http;
        lock (Running)
            Running.Add(this);
    }

    private static void KillAll()
    {
        lock (Running)
        {
            foreach (var app in Running)
                app.Kill();
        }
    }

    public int Pid => _process.Id;

    // settings: environment variables set on top of the defaults below (another
    // ASPNETCORE_ENVIRONMENT, Crm__… options), for the app and its `migrate` alike.
    public static async Task<AppUnderTest> StartAsync(
        string appDll, string connectionString, string logPath, IReadOnlyDictionary<string, string>? settings = null)
    {
        // Outside Development the schema changes only through the `migrate` command.
        var migrate = StartInfo(appDll, connectionString, settings, "migrate");
        using (var process = Process.Start(migrate)!)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"Crm.Api migrate failed ({process.ExitCode}):\n{await output}{await errors}");
        }

        var port = FreePort();
        var start = StartInfo(appDll, connectionString, settings, "--urls", $"http://127.0.0.1:{port}");
        var log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        var app = Process.Start(start)!;
        // Drained to a file: a full pipe would block the app's logging.
        app.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        app.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        app.BeginOutputReadLine();
        app.BeginErrorReadLine();

        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
        var result = new AppUnderTest(app, log, http);
        try
        {
            await result.WaitReadyAsync(TimeSpan.FromSeconds(60), logPath);
        }
        catch
        {
            await result.DisposeAsync();
            throw;
        }
        return result;
    }

    private static ProcessStartInfo StartInfo(
        string appDll, string connectionString, IReadOnlyDictionary<string, string>? settings, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(appDll)!,
        };
        start.ArgumentList.Add(appDll);
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        start.Environment["ConnectionStrings__Crm"] = connectionString;
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Crm__Privacy__HashKey"] = "bench-only-privacy-hash-key-0123456789";
        // No surprise jobs while measuring: no nightly sync, no pending sweeper.
        start.Environment["Crm__Sync__Cron"] = "";
        start.Environment["Crm__Sync__PendingCron"] = "";
        // Outside Development the API needs a key; the bench calls everything, so an admin key.
        start.Environment["Crm__Auth__ApiKeys__0__Name"] = "bench";
        start.Environment["Crm__Auth__ApiKeys__0__Key"] = ApiKey;
        start.Environment["Crm__Auth__ApiKeys__0__Roles"] = "admin";
        // Polling job states every 25 ms is far above the per-key rate limit meant for clients.
        start.Environment["Crm__RateLimit__PermitsPerMinute"] = "1000000";
        foreach (var (name, value) in settings ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        return start;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task WaitReadyAsync(TimeSpan timeout, string logPath)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"Crm.Api exited with code {_process.ExitCode} during start; see {logPath}");
            try
            {
                using var response = await _http.GetAsync("/health/ready");
                if (response.StatusCode == HttpStatusCode.OK)
                    return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"Crm.Api was not ready within {timeout.TotalSeconds} s; see {logPath}");
    }

    public async Task<ImportOutcome> ImportAsync(IEnumerable<GeneratedOrder> orders, ImportBodyFormat format = ImportBodyFormat.Ndjson)
    {
        var content = OrdersContent.Create(format, orders);
        var stopwatch = Stopwatch.StartNew();
        using var response = await _http.PostAsync("/api/orders/import", content);
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        stopwatch.Stop();
        if (!response.IsSuccessStatusCode || body is null)
            throw new InvalidOperationException($"import answered {(int)response.StatusCode}: {body}");
        return new ImportOutcome(
            body["imported"]!.GetValue<int>(), body["rejected"]!.GetValue<int>(), (string?)body["jobId"],
            stopwatch.Elapsed.TotalMilliseconds, content.BytesWritten);
    }

    // POST a job trigger, then poll until the job succeeded; the wall time covers both.
    public async Task<JobOutcome> RunJobAsync(string path, object? body = null)
    {
        var stopwatch = Stopwatch.StartNew();
        using var response = await _http.PostAsJsonAsync(path, body ?? new { });
        var accepted = await response.Content.ReadFromJsonAsync<JsonObject>();
        if (response.StatusCode != HttpStatusCode.Accepted || accepted?["jobId"] is null)
            throw new InvalidOperationException($"POST {path} answered {(int)response.StatusCode}: {accepted}");
        return await WaitJobAsync((string)accepted["jobId"]!, stopwatch);
    }

    public Task<JobOutcome> SyncAsync(string mode) => RunJobAsync("/api/sync", new { mode });

    // POST a job trigger and return the job's id without waiting for it.
    public async Task<string> StartJobAsync(string path, object? body = null)
    {
        using var response = await _http.PostAsJsonAsync(path, body ?? new { });
        var accepted = await response.Content.ReadFromJsonAsync<JsonObject>();
        if (response.StatusCode != HttpStatusCode.Accepted || accepted?["jobId"] is null)
            throw new InvalidOperationException($"POST {path} answered {(int)response.StatusCode}: {accepted}");
        return (string)accepted["jobId"]!;
    }

    // A JSON request answered with the status expected; the body and the client-side time
    // from sending to the body read.
    public async Task<(JsonObject Body, double Ms)> SendAsync(HttpMethod method, string path, object? body, HttpStatusCode expected)
    {
        var stopwatch = Stopwatch.StartNew();
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
            request.Content = JsonContent.Create(body);
        using var response = await _http.SendAsync(request);
        var json = await response.Content.ReadFromJsonAsync<JsonObject>();
        var ms = stopwatch.Elapsed.TotalMilliseconds;
        if (response.StatusCode != expected || json is null)
            throw new InvalidOperationException($"{method} {path} answered {(int)response.StatusCode}: {json}");
        return (json, ms);
    }

    public async Task<JobOutcome> WaitJobAsync(string jobId, Stopwatch? stopwatch = null, TimeSpan? pollInterval = null)
    {
        stopwatch ??= Stopwatch.StartNew();
        while (true)
        {
            var job = await _http.GetFromJsonAsync<JsonObject>($"/api/jobs/{jobId}");
            var state = (string?)job?["state"];
            if (stopwatch.Elapsed > JobTimeout)
                throw new TimeoutException(
                    $"job {jobId} is still {state} after {JobTimeout.TotalMinutes:F0} min (--job-timeout); its statement is in pg_stat_activity");
            switch (state)
            {
                case "Succeeded":
                    return new JobOutcome(jobId, stopwatch.Elapsed.TotalMilliseconds, job!["result"]?.DeepClone());
                case "Failed" or "Deleted" or "Scheduled":
                    // Scheduled means a failed attempt waits for its retry: the measurement is void.
                    throw new InvalidOperationException($"job {jobId} is {state}: {job!["reason"]}");
            }
            await Task.Delay(pollInterval ?? PollInterval);
        }
    }

    // Peak resident memory: VmHWM, reset by writing 5 to clear_refs (Linux ≥ 4.0) so each phase has its own peak.
    public bool ResetPeakRss()
    {
        try
        {
            File.WriteAllText($"/proc/{Pid}/clear_refs", "5");
            return true;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    public double PeakRssMb() => StatusKb("VmHWM") / 1024.0;

    public double RssMb() => StatusKb("VmRSS") / 1024.0;

    private long StatusKb(string field)
    {
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
                return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0]);
        }
        return 0;
    }

    private void Kill()
    {
        try
        {
            if (!_process.HasExited)
                _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    public async ValueTask DisposeAsync()
    {
        lock (Running)
            Running.Remove(this);
        Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
        _http.Dispose();
        lock (_log)
            _log.Dispose();
    }
}
