using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Crm.Tests.Infrastructure;

// A real `worker` process (the built Crm.Api.dll) that the test starts and kills.
public sealed class WorkerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();

    public int Port { get; }

    public int Id => _process.Id;

    private WorkerProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    // Settings a test needs on top of the connection string, e.g. ("Crm__Jobs__InvisibilityTimeout", "00:00:30").
    public static WorkerProcess Start(string connectionString, IEnumerable<(string Name, string Value)> settings)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "Crm.Api.dll"), "--role", "worker", "--urls", $"http://127.0.0.1:{port}" })
            start.ArgumentList.Add(arg);
        start.Environment["ConnectionStrings__Crm"] = connectionString;
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Crm__Privacy__HashKey"] = TestKeys.PrivacyHashKey;
        foreach (var (name, value) in settings)
            start.Environment[name] = value;

        var worker = new WorkerProcess(new Process { StartInfo = start }, port);
        worker._process.OutputDataReceived += (_, e) => worker.Keep(e.Data);
        worker._process.ErrorDataReceived += (_, e) => worker.Keep(e.Data);
        worker._process.Start();
        worker._process.BeginOutputReadLine();
        worker._process.BeginErrorReadLine();
        return worker;
    }

    // The last lines the process wrote, for failure messages.
    public string Output => string.Join('\n', _lines);

    private void Keep(string? line)
    {
        if (line is null)
            return;
        _lines.Enqueue(line);
        while (_lines.Count > 60)
            _lines.TryDequeue(out _);
    }

    public async Task WaitReadyAsync(TimeSpan deadline)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Port}"), Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            await Waiting.UntilAsync(async () =>
            {
                if (_process.HasExited)
                    throw new InvalidOperationException($"The worker exited with {_process.ExitCode}:\n{Output}");
                try
                {
                    return (await http.GetAsync("/health/ready")).StatusCode;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    return HttpStatusCode.ServiceUnavailable; // not listening yet, or starting too slowly to answer
                }
            }, status => status == HttpStatusCode.OK, $"worker process {Id} to become ready", deadline);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}\n{Output}", e);
        }
    }

    // SIGKILL on Linux: no shutdown, no cleanup, sockets closed by the kernel.
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await _process.WaitForExitAsync(cts.Token);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
            await KillAsync();
        _process.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
