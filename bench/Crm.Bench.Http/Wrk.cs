using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Crm.Bench.Http;

public sealed record WrkResult(
    double P50Ms, double P99Ms, double RequestsPerSecond, long Requests, long Non2xx, long SocketErrors)
{
    // The server's CPU time per request (µs) during the run; NaN when not measured.
    public double ServerCpuUsPerRequest { get; init; } = double.NaN;
}

// wrk (Debian's package) on loopback: one thread, N connections, latency distribution.
public static partial class Wrk
{
    // A GET of random existing customer ids: the first request of each id is not cached anywhere.
    public static string RandomIdScript(string pathPrefix, long firstId, long lastId, string pathSuffix = "", string method = "GET") => $$"""
        -- Random existing customer ids between {{firstId}} and {{lastId}}.
        math.randomseed(42)
        request = function()
          return wrk.format("{{method}}", "{{pathPrefix}}" .. math.random({{firstId}}, {{lastId}}) .. "{{pathSuffix}}")
        end
        """;

    public static string JsonPostScript(string jsonBody) => $$"""
        wrk.method = "POST"
        wrk.headers["Content-Type"] = "application/json"
        wrk.body = '{{jsonBody}}'
        """;

    // Runs wrk against `server` and adds the server's CPU time per request.
    public static async Task<WrkResult> RunAsync(ChildProcess server, string url, int connections, int seconds, string? scriptPath, string apiKey)
    {
        var cpuBefore = server.CpuTime;
        var result = await RunAsync(url, connections, seconds, scriptPath, apiKey);
        var cpu = server.CpuTime - cpuBefore;
        return result with { ServerCpuUsPerRequest = result.Requests > 0 ? cpu.TotalMicroseconds / result.Requests : double.NaN };
    }

    public static async Task<WrkResult> RunAsync(string url, int connections, int seconds, string? scriptPath, string apiKey)
    {
        var info = new ProcessStartInfo("wrk")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // Requests slower than the timeout would be dropped from the distribution: keep them.
        foreach (var arg in new[] { "-t1", $"-c{connections}", $"-d{seconds}s", "--timeout", "30s", "--latency" })
            info.ArgumentList.Add(arg);
        // Sent to the peer too, so that both servers read the same requests.
        info.ArgumentList.Add("-H");
        info.ArgumentList.Add("X-Api-Key: " + apiKey);
        if (scriptPath is not null)
        {
            info.ArgumentList.Add("-s");
            info.ArgumentList.Add(scriptPath);
        }
        info.ArgumentList.Add(url);

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var output = await stdout;
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"wrk failed ({process.ExitCode}): {await stderr}\n{output}");
        return Parse(output);
    }

    public static WrkResult Parse(string output)
    {
        double Percentile(string p) => LatencyLine().Matches(output)
            .Where(m => m.Groups["p"].Value == p)
            .Select(m => ToMilliseconds(m.Groups["v"].Value, m.Groups["u"].Value))
            .DefaultIfEmpty(double.NaN).First();

        long Count(Regex regex, string group = "n") =>
            regex.Match(output) is { Success: true } m ? long.Parse(m.Groups[group].Value, CultureInfo.InvariantCulture) : 0;

        var socket = SocketErrorsLine().Match(output);
        var socketErrors = socket.Success
            ? new[] { "c", "r", "w", "t" }.Sum(g => long.Parse(socket.Groups[g].Value, CultureInfo.InvariantCulture))
            : 0;
        var rps = RequestsPerSecondLine().Match(output);
        return new WrkResult(
            Percentile("50"),
            Percentile("99"),
            rps.Success ? double.Parse(rps.Groups["v"].Value, CultureInfo.InvariantCulture) : 0,
            Count(RequestsLine()),
            Count(Non2xxLine()),
            socketErrors);
    }

    private static double ToMilliseconds(string value, string unit)
    {
        var v = double.Parse(value, CultureInfo.InvariantCulture);
        return unit switch
        {
            "us" => v / 1000,
            "ms" => v,
            "s" => v * 1000,
            "m" => v * 60_000,
            _ => throw new FormatException($"unknown wrk time unit '{unit}'"),
        };
    }

    // "     99%    1.20ms" in the "Latency Distribution" block.
    [GeneratedRegex(@"^\s+(?<p>50|75|90|99)%\s+(?<v>[\d.]+)(?<u>us|ms|s|m)\s*$", RegexOptions.Multiline)]
    private static partial Regex LatencyLine();

    [GeneratedRegex(@"Requests/sec:\s+(?<v>[\d.]+)")]
    private static partial Regex RequestsPerSecondLine();

    [GeneratedRegex(@"(?<n>\d+) requests in")]
    private static partial Regex RequestsLine();

    [GeneratedRegex(@"Non-2xx or 3xx responses: (?<n>\d+)")]
    private static partial Regex Non2xxLine();

    [GeneratedRegex(@"Socket errors: connect (?<c>\d+), read (?<r>\d+), write (?<w>\d+), timeout (?<t>\d+)")]
    private static partial Regex SocketErrorsLine();
}
