using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Crm.Bench.Http;

// A server under test (the app, a worker, the bare peer) as a real child process. Its
// output goes to a log file next to the results, for when something goes wrong.
public sealed class ChildProcess : IAsyncDisposable
{
    // Every child still running, so that Ctrl-C or a crash of the benchmark ends them too.
    private static readonly ConcurrentDictionary<int, Process> Running = new();

    private readonly Process process;
    private readonly LogSink log;

    public string Name { get; }
    public string BaseUrl { get; }
    public int Id => process.Id;

    // CPU time (user + system) the process has used so far: per request, it is a cost
    // that a busy shared machine distorts far less than wall-clock throughput.
    public TimeSpan CpuTime
    {
        get
        {
            process.Refresh();
            return process.TotalProcessorTime;
        }
    }

    private ChildProcess(string name, string baseUrl, Process process, LogSink log)
    {
        Name = name;
        BaseUrl = baseUrl;
        this.process = process;
        this.log = log;
    }

    static ChildProcess()
    {
        Console.CancelKeyPress += (_, _) => KillAll();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
    }

    public static void KillAll()
    {
        foreach (var (_, p) in Running)
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        }
    }

    // Starts `dotnet <dll> <args>` in the dll's directory (so it finds its appsettings.json).
    public static ChildProcess Start(string name, string dll, string[] args, int port,
        IReadOnlyDictionary<string, string> environment, string logPath)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add(dll);
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        if (port > 0)
        {
            info.ArgumentList.Add("--urls");
            info.ArgumentList.Add($"http://127.0.0.1:{port}");
        }
        foreach (var (key, value) in environment)
            info.Environment[key] = value;

        var log = new LogSink(logPath);
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => log.Write(e.Data);
        process.ErrorDataReceived += (_, e) => log.Write(e.Data);
        process.Start();
        Running[process.Id] = process;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new ChildProcess(name, $"http://127.0.0.1:{port}", process, log);
    }

    // The child's output, line by line; a last line may arrive after the log was closed.
    private sealed class LogSink(string path)
    {
        private readonly StreamWriter writer = new(path, append: true) { AutoFlush = true };
        private bool closed;

        public void Write(string? line)
        {
            lock (writer)
            {
                if (line is not null && !closed)
                    writer.WriteLine(line);
            }
        }

        public void Close()
        {
            lock (writer)
            {
                closed = true;
                writer.Dispose();
            }
        }
    }

    // Runs a command of the app (e.g. `migrate`) to its end; throws unless it exits 0.
    public static async Task RunToEndAsync(string name, string dll, string[] args,
        IReadOnlyDictionary<string, string> environment, string logPath, TimeSpan timeout)
    {
        await using var child = Start(name, dll, args, port: 0, environment, logPath);
        using var cts = new CancellationTokenSource(timeout);
        await child.process.WaitForExitAsync(cts.Token);
        if (child.process.ExitCode != 0)
            throw new InvalidOperationException($"{name} exited with code {child.process.ExitCode}; see {logPath}");
    }

    // Polls `path` until it answers 200, or fails when the process dies or time runs out.
    public async Task WaitReadyAsync(string path, TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"{Name} exited with code {process.ExitCode} while starting; see its log");
            try
            {
                using var response = await http.GetAsync(BaseUrl + path);
                if (response.IsSuccessStatusCode)
                    return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Listening but slow to answer while it starts.
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"{Name} not ready at {BaseUrl}{path} after {timeout.TotalSeconds:0} s");
    }

    [DllImport("libc", EntryPoint = "kill")]
    private static extern int SendSignal(int pid, int signal);

    private const int SigTerm = 15;

    // SIGKILL: no shutdown, no cleanup, as a crashed host (the soak's worker kills).
    public async Task KillAsync()
    {
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
    }

    // SIGTERM first, so Hangfire's servers leave the server list and hand back nothing;
    // killed after 15 s if it does not stop by then.
    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            SendSignal(process.Id, SigTerm);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }
        else
        {
            await process.WaitForExitAsync();
        }
        Running.TryRemove(process.Id, out _);
        process.Dispose();
        log.Close();
    }
}
