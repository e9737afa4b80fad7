using System.Diagnostics;

namespace Crm.Tests.Infrastructure;

// Runs the real Crm.Api executable (built beside the tests) as a separate process.
public static class AppProcess
{
    public static async Task<ProcessResult> RunAsync(
        string connectionString, TimeSpan timeout, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Crm.Api.dll"));
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        start.Environment["ConnectionStrings__Crm"] = connectionString;
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";

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
            throw new TimeoutException($"Crm.Api {string.Join(' ', args)} did not exit within {timeout}.");
        }
        return new ProcessResult(process.ExitCode, await stdout, await stderr);
    }
}
