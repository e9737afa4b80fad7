using System.Globalization;
using System.Text.RegularExpressions;

namespace Crm.Jobs.Shop;

// A size setting as PostgreSQL writes one ("10GB", "512MB", "64kB") or a plain number of
// bytes; units are 1024-based and case-insensitive, as in postgresql.conf.
public static partial class ByteSize
{
    // null when the text is not a size (or overflows a long).
    public static long? Parse(string? text)
    {
        var match = text is null ? Match.Empty : Size().Match(text);
        if (!match.Success || !long.TryParse(match.Groups["n"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            return null;
        var shift = match.Groups["unit"].Value.ToUpperInvariant() switch
        {
            "KB" => 10,
            "MB" => 20,
            "GB" => 30,
            "TB" => 40,
            _ => 0,
        };
        return n > long.MaxValue >> shift ? null : n << shift;
    }

    // "812 bytes", "12.3 MB", "10.0 GB": for people (pg_size_pretty's units).
    public static string Format(long bytes)
    {
        string[] units = ["kB", "MB", "GB", "TB"];
        if (Math.Abs(bytes) < 1024)
            return $"{bytes} bytes";
        var value = (double)bytes;
        var unit = -1;
        while (Math.Abs(value) >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return string.Create(CultureInfo.InvariantCulture, $"{value:0.0} {units[unit]}");
    }

    [GeneratedRegex(@"^\s*(?<n>[0-9]+)\s*(?<unit>B|kB|MB|GB|TB)?\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex Size();
}
