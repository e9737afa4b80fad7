using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Crm.Bench.Http;

// One line of the final table. Met is null where there is no target.
public sealed record Figure(string Name, double Value, string Unit, string Target, bool? Met);

// One wrk run.
public sealed record LatencyRow(
    string Endpoint, int Connections, double P50Ms, double P99Ms, double RequestsPerSecond,
    long Requests, long Errors, double ServerCpuUsPerRequest, string Target, bool? Met);

public sealed class Report
{
    public DateTime StartedAt { get; } = DateTime.UtcNow;
    public Dictionary<string, string> Machine { get; set; } = [];
    public Dictionary<string, object> Settings { get; } = [];
    public List<LatencyRow> Latency { get; } = [];
    public Dictionary<string, object> Details { get; } = [];
    public List<Figure> Figures { get; } = [];
    public List<string> Explain { get; } = [];

    public void Add(string name, double value, string unit, string target = "", bool? met = null) =>
        Figures.Add(new Figure(name, value, unit, target, met));

    public static string Format(double value, string unit)
    {
        if (double.IsNaN(value))
            return "n/a";
        var digits = unit switch
        {
            "ms" => value < 10 ? 2 : 1,
            "s" => 2,
            "×" => 2,
            "µs" => 0,
            _ => value < 100 && value != Math.Floor(value) ? 1 : 0,
        };
        return value.ToString("N" + digits, CultureInfo.InvariantCulture);
    }

    private static string Met(bool? met) => met switch { true => "yes", false => "NO", null => "" };

    public string LatencyTable()
    {
        var text = new StringBuilder();
        text.AppendLine($"{"request (wrk -t1)",-62} {"conns",5} {"p50 ms",8} {"p99 ms",8} {"req/s",8} {"cpu µs",7} {"errors",6}  {"target",-12} {"met",3}");
        foreach (var r in Latency)
        {
            text.AppendLine($"{r.Endpoint,-62} {r.Connections,5} {Format(r.P50Ms, "ms"),8} {Format(r.P99Ms, "ms"),8} " +
                $"{Format(r.RequestsPerSecond, "req/s"),8} {Format(r.ServerCpuUsPerRequest, "µs"),7} {r.Errors,6}  {r.Target,-12} {Met(r.Met),3}");
        }
        text.AppendLine("cpu µs: the server process's CPU time per request during the run (for role all, with its job workers)");
        return text.ToString();
    }

    public string FigureTable()
    {
        var text = new StringBuilder();
        text.AppendLine($"{"figure",-62} {"value",10} {"unit",-8} {"target",-12} {"met",3}");
        foreach (var f in Figures)
            text.AppendLine($"{f.Name,-62} {Format(f.Value, f.Unit),10} {f.Unit,-8} {f.Target,-12} {Met(f.Met),3}");
        return text.ToString();
    }

    public async Task<string> WriteJsonAsync(string directory)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, $"http-{StartedAt:yyyyMMdd-HHmmss}.json");
        var options = new JsonSerializerOptions
        {
            WriteIndented = true,
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        await using var file = File.Create(path);
        await JsonSerializer.SerializeAsync(file, new
        {
            StartedAt,
            FinishedAt = DateTime.UtcNow,
            Machine,
            Settings,
            Figures,
            Latency,
            Details,
            Explain,
        }, options);
        return path;
    }
}

public static class Stats
{
    public static double Median(IEnumerable<double> values) => Percentile(values, 50);

    // Nearest-rank percentile; NaN for no values.
    public static double Percentile(IEnumerable<double> values, double percent)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
            return double.NaN;
        var rank = (int)Math.Ceiling(percent / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    public static string MinMedianMax(IReadOnlyCollection<double> values, string unit) =>
        $"min {Report.Format(values.Min(), unit)} / median {Report.Format(Median(values), unit)} / max {Report.Format(values.Max(), unit)} {unit}";
}
