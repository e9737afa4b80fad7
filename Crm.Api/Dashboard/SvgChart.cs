using System.Globalization;
using System.Net;
using System.Text;

namespace Crm.Api.Dashboard;

// The dashboard's pictures as inline SVG, drawn here by hand: no package the project keeps
// draws SVG on the server, and a chart library for the browser would mean a script (the
// dashboard serves none of its own). Plain SVG 1.1: a <title> (the caption), axis labels and
// values as <text> and <title> elements a reader and a screen reader can read, no script, no
// external fonts, images or stylesheets. Every text that comes from data is XML-encoded.
public static class SvgChart
{
    private const int Width = 720;
    private const int Height = 272;
    private const int Left = 64;
    private const int Right = 150;
    private const int Top = 28;
    private const int Bottom = 40;
    private const int PlotWidth = Width - Left - Right;
    private const int PlotHeight = Height - Top - Bottom;

    // Colour-blind-safe (Okabe-Ito), a series each in the order given.
    private static readonly string[] Colours = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000"];

    // One line per series over the same x labels (days, hours), a dot with its value per point;
    // the y axis from 0 to a round maximum.
    public static string Lines(string id, string caption, IReadOnlyList<string> xLabels, IReadOnlyList<ChartSeries> series, string unit)
    {
        var svg = Begin(id, caption);
        if (xLabels.Count == 0 || series.Count == 0)
            return Empty(svg, "No data yet.");
        var max = RoundUp(series.SelectMany(s => s.Values).DefaultIfEmpty(0).Max());
        double X(int i) => Left + (xLabels.Count == 1 ? PlotWidth / 2.0 : i * (double)PlotWidth / (xLabels.Count - 1));
        double Y(double v) => Top + PlotHeight - v / max * PlotHeight;

        for (var k = 0; k <= 4; k++)
            YTick(svg, Y(max * k / 4), Number(max * k / 4));
        var every = Math.Max(1, (int)Math.Ceiling(xLabels.Count / 8.0));
        for (var i = 0; i < xLabels.Count; i += every)
            XTick(svg, X(i), xLabels[i]);
        Axes(svg, unit);
        foreach (var (s, index) in series.Select((s, i) => (s, i)))
        {
            var colour = Colours[index % Colours.Length];
            var points = string.Join(' ', s.Values.Select((v, i) => $"{F(X(i))},{F(Y(v))}"));
            svg.Append($"""<g class="series"><title>{Xml(s.Name)}</title><polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>""");
            for (var i = 0; i < s.Values.Count && i < xLabels.Count; i++)
                svg.Append($"""<circle cx="{F(X(i))}" cy="{F(Y(s.Values[i]))}" r="2" fill="{colour}"><title>{Xml($"{xLabels[i]}: {s.Name} {Number(s.Values[i])}")}</title></circle>""");
            svg.Append("</g>");
            Legend(svg, index, colour, $"{s.Name} ({Number(s.Values.LastOrDefault())})");
        }
        return svg.Append("</svg>").ToString();
    }

    // Points in time (x) and a value that spans orders of magnitude (y, a log scale: 10 ms
    // and 10 min on one picture), a colour per series.
    public static string Dots(string id, string caption, DateTime from, DateTime to, IReadOnlyList<ChartPoint> points,
        Func<DateTime, string> timeLabel, string unit, string empty)
    {
        var svg = Begin(id, caption);
        if (points.Count == 0)
            return Empty(svg, empty);
        var span = Math.Max(1, (to - from).Ticks);
        double X(DateTime at) => Left + Math.Clamp((at - from).Ticks / (double)span, 0, 1) * PlotWidth;
        // Decades from the smallest to the largest value (at least one).
        var low = Math.Floor(Math.Log10(Math.Max(points.Min(p => p.Value), 1)));
        var high = Math.Max(low + 1, Math.Ceiling(Math.Log10(Math.Max(points.Max(p => p.Value), 1))));
        double Y(double v) => Top + PlotHeight - (Math.Log10(Math.Max(v, 1)) - low) / (high - low) * PlotHeight;

        for (var decade = low; decade <= high; decade++)
            YTick(svg, Y(Math.Pow(10, decade)), Duration(Math.Pow(10, decade)));
        for (var k = 0; k <= 4; k++)
            XTick(svg, Left + k * PlotWidth / 4.0, timeLabel(from + (to - from) * k / 4));
        Axes(svg, unit);
        var names = points.Select(p => p.Series).Distinct().ToList();
        foreach (var (name, index) in names.Select((n, i) => (n, i)))
        {
            var colour = Colours[index % Colours.Length];
            var mine = points.Where(p => p.Series == name).ToList();
            svg.Append($"""<g class="series"><title>{Xml(name)}</title>""");
            foreach (var p in mine)
                svg.Append($"""<circle cx="{F(X(p.At))}" cy="{F(Y(p.Value))}" r="3" fill="{colour}" fill-opacity="0.8"><title>{Xml($"{timeLabel(p.At)}: {name} {Duration(p.Value)}")}</title></circle>""");
            svg.Append("</g>");
            Legend(svg, index, colour, $"{name} ({mine.Count})");
        }
        return svg.Append("</svg>").ToString();
    }

    // A duration in milliseconds as people read it: "850 ms", "1.2 s", "3.5 min".
    public static string Duration(double ms) => ms switch
    {
        < 1000 => $"{Number(Math.Round(ms))} ms",
        < 60_000 => $"{Number(Math.Round(ms / 1000, 1))} s",
        < 3_600_000 => $"{Number(Math.Round(ms / 60_000, 1))} min",
        _ => $"{Number(Math.Round(ms / 3_600_000, 1))} h",
    };

    // &, <, >, " and ' as entities: what data puts in a text or an attribute stays text.
    public static string Xml(string text) => WebUtility.HtmlEncode(text);

    private static StringBuilder Begin(string id, string caption) => new StringBuilder()
        .Append($"""<svg xmlns="http://www.w3.org/2000/svg" id="{Xml(id)}" class="dashboard-picture" role="img" aria-labelledby="{Xml(id)}-title" """)
        .Append($"""viewBox="0 0 {Width} {Height}" width="100%" style="max-width:{Width}px" font-family="sans-serif" font-size="11">""")
        .Append($"""<title id="{Xml(id)}-title">{Xml(caption)}</title>""");

    private static string Empty(StringBuilder svg, string text) => svg
        .Append($"""<text class="empty" x="{Width / 2}" y="{Height / 2}" text-anchor="middle" fill="#777">{Xml(text)}</text></svg>""")
        .ToString();

    private static void Axes(StringBuilder svg, string unit) => svg
        .Append($"""<line x1="{Left}" y1="{Top + PlotHeight}" x2="{Left + PlotWidth}" y2="{Top + PlotHeight}" stroke="#333"/>""")
        .Append($"""<line x1="{Left}" y1="{Top}" x2="{Left}" y2="{Top + PlotHeight}" stroke="#333"/>""")
        .Append($"""<text class="unit" x="4" y="{Top - 12}" fill="#333">{Xml(unit)}</text>""");

    private static void YTick(StringBuilder svg, double y, string label) => svg
        .Append($"""<line x1="{Left}" y1="{F(y)}" x2="{Left + PlotWidth}" y2="{F(y)}" stroke="#ddd"/>""")
        .Append($"""<text x="{Left - 6}" y="{F(y + 4)}" text-anchor="end" fill="#333">{Xml(label)}</text>""");

    private static void XTick(StringBuilder svg, double x, string label) => svg
        .Append($"""<line x1="{F(x)}" y1="{Top + PlotHeight}" x2="{F(x)}" y2="{Top + PlotHeight + 4}" stroke="#333"/>""")
        .Append($"""<text x="{F(x)}" y="{Top + PlotHeight + 18}" text-anchor="middle" fill="#333">{Xml(label)}</text>""");

    private static void Legend(StringBuilder svg, int index, string colour, string text) => svg
        .Append($"""<rect x="{Left + PlotWidth + 16}" y="{Top + index * 18}" width="10" height="10" fill="{colour}"/>""")
        .Append($"""<text class="legend" x="{Left + PlotWidth + 32}" y="{Top + index * 18 + 9}" fill="#333">{Xml(text)}</text>""");

    // 1, 2 or 5 times a power of ten at or above the value; 1 for nothing to show.
    private static double RoundUp(double value)
    {
        if (value <= 0)
            return 1;
        var power = Math.Pow(10, Math.Floor(Math.Log10(value)));
        return new[] { 1, 2, 5, 10 }.Select(m => m * power).First(m => m >= value);
    }

    private static string Number(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    private static string F(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);
}
