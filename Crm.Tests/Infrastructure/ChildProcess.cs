using System.Diagnostics;

namespace Crm.Tests.Infrastructure;

// Runs a program of the machine or the repository (a script, a CLI) to its end, with a
// deadline, and keeps what it printed for the assertion's message.
public static class ChildProcess
{
    public static async Task<ProcessResult> RunAsync(
        string program, string workingDirectory, IReadOnlyDictionary<string, string>? environment, TimeSpan timeout,
        params string[] args)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not exit within {timeout}.");
        }
        return new ProcessResult(process.ExitCode, await stdout, await stderr);
    }
}
