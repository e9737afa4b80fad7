using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Npgsql;

namespace Crm.Bench;

// The printed tables and the JSON file.
public static class Report
{
    public static async Task<Dictionary<string, object>> DescribeMachineAsync(string postgres)
    {
        await using var dataSource = NpgsqlDataSource.Create(postgres);
        await using var command = dataSource.CreateCommand("SELECT version()");
        return new Dictionary<string, object>
        {
            ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture),
            ["nproc"] = Environment.ProcessorCount,
            ["cpu"] = ProcField("/proc/cpuinfo", "model name") ?? "unknown",
            ["ramGb"] = Math.Round(double.Parse(ProcField("/proc/meminfo", "MemTotal")?.Split(' ')[0] ?? "0", CultureInfo.InvariantCulture) / 1048576.0, 1),
            ["os"] = RuntimeInformation.OSDescription,
            ["dotnet"] = RuntimeInformation.FrameworkDescription,
            ["postgres"] = (string)(await command.ExecuteScalarAsync())!,
            ["loadAverageAtStart"] = LoadAverage(),
        };
    }

    // The machine is shared: the load when a run started and ended says how noisy it was.
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    private static string? ProcField(string path, string name)
    {
        if (!File.Exists(path))
            return null;
        return File.ReadLines(path)
            .Where(l => l.StartsWith(name, StringComparison.Ordinal) && l.Contains(':'))
            .Select(l => l[(l.IndexOf(':') + 1)..].Trim())
            .FirstOrDefault();
    }

    public static string Tables(IReadOnlyList<FigureSet> sets, BenchOptions options)
    {
        var text = new StringBuilder();
        foreach (var set in sets)
        {
            text.AppendLine();
            text.AppendLine(set.Label == "seed slice"
                ? $"== seed slice: {set.Facts.GetValueOrDefault("orders")} orders over {set.Facts.GetValueOrDefault("distinctPhones")} phones (median of {options.Runs}) =="
                : $"== {set.Orders:N0} orders over {set.Phones:N0} phones (median of {options.Runs}; targets from issues 4 and 10) ==");
            text.Append(set.Table());
            foreach (var (key, value) in set.Facts)
            {
                // Plans are long; --explain prints them after the tables.
                if (value is string s && s.Contains('\n'))
                    continue;
                text.AppendLine($"  {key}: {Describe(value)}");
            }
        }
        var full = sets.Where(s => s.Label != "seed slice").ToList();
        if (full.Count > 1)
        {
            text.AppendLine();
            text.AppendLine("== scaling: medians per N ==");
            text.Append(Scaling(full));
        }
        return text.ToString();
    }

    private static string Describe(object value) => value switch
    {
        System.Collections.IDictionary d => string.Join(", ", d.Keys.Cast<object>().Select(k => $"{k} {d[k]}")),
        System.Collections.ICollection list => $"{list.Count} entries (in the JSON)",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    private static string Scaling(List<FigureSet> sets)
    {
        // Growth from the next-largest size to the largest: linear figures grow by the ratio
        // of the sizes, per-customer figures should not grow (issue 10: ≤ 1.5× from 1M to 10M).
        var growth = sets.Count > 1;
        var header = new[] { "figure", "unit" }.Concat(sets.Select(s => $"N={s.Orders:N0}"))
            .Concat(growth ? [$"{sets[^1].Orders / (double)sets[^2].Orders:0.#}× N"] : []).ToArray();
        var rows = new List<string[]> { header };
        // Every figure of any size, in the order first measured (phases skipped at some sizes show —).
        var keys = sets.SelectMany(s => s.Figures).Select(f => f.Key).Distinct().ToList();
        foreach (var key in keys)
        {
            var figure = sets.Select(s => s.Find(key)).First(f => f is not null)!;
            var values = sets.Select(s => s.Find(key)?.Median ?? double.NaN).ToArray();
            rows.Add(Row(figure.Name, figure.Unit, values));
        }
        // Per order: how the cost grows with N (flat = linear).
        foreach (var key in new[] { "sync.first.engine", "import.single.total", "reference" })
        {
            var figure = sets.Select(s => s.Find(key)).FirstOrDefault(f => f is not null);
            if (figure is null)
                continue;
            rows.Add(Row(figure.Name + " per 1 000 orders", "ms",
                sets.Select(s => (s.Find(key)?.Median ?? double.NaN) / s.Orders * 1000).ToArray()));
        }
        return FigureSet.Render(rows, Enumerable.Range(2, sets.Count + (growth ? 1 : 0)).ToArray());

        string[] Row(string name, string unit, double[] values) =>
            new[] { name, unit }.Concat(values.Select(Target.Format))
                .Concat(growth ? [Ratio(values[^1], values[^2])] : []).ToArray();
    }

    private static string Ratio(double last, double previous) =>
        double.IsFinite(last) && double.IsFinite(previous) && previous != 0 ? $"{last / previous:0.00}×" : "";

    public static async Task<string> WriteJsonAsync(
        string directory, Dictionary<string, object> machine, BenchOptions options, IReadOnlyList<FigureSet> sets, string prefix = "")
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, $"{prefix}{DateTime.UtcNow:yyyyMMdd-HHmmss}.json");
        var document = new
        {
            machine,
            parameters = new
            {
                options.Orders,
                phones = options.PhonesFor(options.Orders),
                options.SeedSlice,
                options.SeedFull,
                options.Runs,
                options.Chunk,
                options.ImportBudgetSeconds,
                scale = options.Scale,
                skip = options.Skip,
                options.LeanFrom,
                leanSkip = options.LeanSkip,
                jobPollMs = AppUnderTest.PollInterval.TotalMilliseconds,
                fastPollMs = AppUnderTest.FastPollInterval.TotalMilliseconds,
                postgresSettings = "shared_buffers 1GB, max_wal_size 4GB, otherwise defaults (fsync on)",
                options.Revision,
                options.Ledger,
                options.Webhooks,
                moved = options.Webhooks ? options.Moved : (int?)null,
            },
            sets = sets.Select(s => new
            {
                s.Label,
                s.Orders,
                s.Phones,
                figures = s.Figures.Select(f => new
                {
                    f.Key,
                    f.Name,
                    f.Unit,
                    median = Finite(f.Median),
                    min = Finite(f.Min),
                    max = Finite(f.Max),
                    samples = f.Samples.Select(Finite),
                    target = f.Target?.Text,
                    met = f.Met,
                    f.Derived,
                }),
                facts = s.Facts,
            }),
        };
        await using var file = File.Create(path);
        await JsonSerializer.SerializeAsync(file, document, new JsonSerializerOptions
        {
            WriteIndented = true,
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        });
        return path;
    }

    // JSON has no NaN or infinity.
    private static double? Finite(double value) => double.IsFinite(value) ? Math.Round(value, 3) : null;
}
