using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace Crm.Bench.Http;

// What the figures were measured on: they mean little without it.
public static class Machine
{
    public static async Task<Dictionary<string, string>> DescribeAsync(BenchDatabase db) => new()
    {
        ["nproc"] = Environment.ProcessorCount.ToString(),
        ["cpu"] = FirstMatch("/proc/cpuinfo", @"^model name\s*:\s*(.+)$") ?? "unknown",
        ["ram"] = FirstMatch("/proc/meminfo", @"^MemTotal:\s*(\d+) kB") is { } kb ? $"{long.Parse(kb) / 1024 / 1024.0:0.0} GiB" : "unknown",
        ["os"] = FirstMatch("/etc/os-release", @"^PRETTY_NAME=""?([^""]+)""?") ?? RuntimeInformation.OSDescription,
        ["kernel"] = File.Exists("/proc/sys/kernel/osrelease") ? File.ReadAllText("/proc/sys/kernel/osrelease").Trim() : "unknown",
        ["dotnet"] = RuntimeInformation.FrameworkDescription,
        ["postgres"] = await db.ScalarAsync<string>("SELECT version()"),
        ["postgresSettings"] = string.Join(", ", await db.LinesAsync("""
            SELECT name || '=' || setting || coalesce(unit, '') FROM pg_settings
            WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers', 'max_connections', 'work_mem')
            ORDER BY name
            """)),
        ["wrk"] = "wrk 4.1 (Debian), -t1, on loopback",
        ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss 'UTC'"),
        ["loadAverageAtStart"] = LoadAverage(),
    };

    // The 1/5/15-minute load averages: a busy shared machine shows here.
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    private static string? FirstMatch(string path, string pattern)
    {
        if (!File.Exists(path))
            return null;
        var match = Regex.Match(File.ReadAllText(path), pattern, RegexOptions.Multiline);
        return match.Success ? match.Groups[1].Value.Trim() : null;
    }
}
