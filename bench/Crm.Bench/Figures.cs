using System.Globalization;
using System.Text;

namespace Crm.Bench;

// A target from issue 4: its text for the table and the check applied to the median.
public sealed record Target(string Text, Func<double, bool> IsMet)
{
    public static Target AtMost(double limit, string unit) => new($"≤ {Format(limit)} {unit}".TrimEnd(), v => v <= limit);
    public static Target AtLeast(double limit, string unit) => new($"≥ {Format(limit)} {unit}".TrimEnd(), v => v >= limit);

    public static string Format(double value) => value switch
    {
        double.NaN => "—",
        >= 1000 or <= -1000 => value.ToString("N0", CultureInfo.InvariantCulture),
        _ when value == Math.Floor(value) => value.ToString("F0", CultureInfo.InvariantCulture),
        >= 100 or <= -100 => value.ToString("F0", CultureInfo.InvariantCulture),
        >= 10 or <= -10 => value.ToString("F1", CultureInfo.InvariantCulture),
        _ => value.ToString("0.##", CultureInfo.InvariantCulture),
    };
}

// One measured figure: a sample per run; the median is the figure, min and max show the noise.
// Derived figures (ratios, extrapolations) are computed from medians and have a single value.
public sealed class Figure(string key, string name, string unit, Target? target = null, bool derived = false)
{
    public string Key { get; } = key;
    public string Name { get; } = name;
    public string Unit { get; } = unit;
    public Target? Target { get; } = target;
    public bool Derived { get; } = derived;
    public List<double> Samples { get; } = [];

    public double Median
    {
        get
        {
            if (Samples.Count == 0)
                return double.NaN;
            var sorted = Samples.Order().ToArray();
            var middle = sorted.Length / 2;
            return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
        }
    }

    // Nearest rank: the smallest sample with at least p of the samples at or below it (the
    // p99 of 30 samples is their maximum, of 200 the second largest).
    public double Percentile(double p)
    {
        var finite = Samples.Where(double.IsFinite).Order().ToArray();
        if (finite.Length == 0)
            return double.NaN;
        var rank = (int)Math.Ceiling(p * finite.Length);
        return finite[Math.Clamp(rank - 1, 0, finite.Length - 1)];
    }

    public double Min => Samples.Count == 0 ? double.NaN : Samples.Min();
    public double Max => Samples.Count == 0 ? double.NaN : Samples.Max();
    public bool? Met => Target is null || Samples.Count == 0 ? null : Target.IsMet(Median);

    public Figure Add(double sample)
    {
        Samples.Add(sample);
        return this;
    }
}

// The figures of one data set (one N), in the order they were measured.
public sealed class FigureSet(string label, int orders, int phones)
{
    public string Label { get; } = label;
    public int Orders { get; } = orders;
    public int Phones { get; } = phones;
    public List<Figure> Figures { get; } = [];
    public Dictionary<string, object> Facts { get; } = [];

    public Figure Get(string key, string name, string unit, Target? target = null, bool derived = false)
    {
        var figure = Figures.FirstOrDefault(f => f.Key == key);
        if (figure is null)
        {
            figure = new Figure(key, name, unit, target, derived);
            Figures.Add(figure);
        }
        return figure;
    }

    public Figure? Find(string key) => Figures.FirstOrDefault(f => f.Key == key);

    public string Table()
    {
        var rows = new List<string[]> { new[] { "figure", "median", "min", "max", "unit", "target", "met" } };
        foreach (var f in Figures)
        {
            rows.Add([
                f.Name,
                Target.Format(f.Median),
                f.Derived ? "" : Target.Format(f.Min),
                f.Derived ? "" : Target.Format(f.Max),
                f.Unit,
                f.Target?.Text ?? "",
                f.Met switch { true => "yes", false => "NO", null => "" },
            ]);
        }
        return Render(rows, rightAligned: [1, 2, 3]);
    }

    public static string Render(List<string[]> rows, int[] rightAligned)
    {
        var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        var text = new StringBuilder();
        for (var r = 0; r < rows.Count; r++)
        {
            var cells = rows[r].Select((cell, c) => rightAligned.Contains(c) ? cell.PadLeft(widths[c]) : cell.PadRight(widths[c]));
            text.AppendLine(string.Join("  ", cells).TrimEnd());
            if (r == 0)
                text.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
        }
        return text.ToString();
    }
}
