using System.Text.Json;
using System.Text.RegularExpressions;
using Crm.Jobs.Data;

namespace Crm.Jobs.Orders;

// NDJSON has no quoted line breaks: one physical line is one record.
internal sealed partial class NdjsonOrderRecords(Stream body) : OrderRecords
{
    private const string NotAnObject = "line is not a JSON object";

    private static readonly string TooLongReason = $"line is longer than {OrderImporter.MaxLineLength} characters";

    private readonly LineReader _lines = new(body);

    public override async ValueTask<bool> ReadAsync(CancellationToken ct)
    {
        if (!await _lines.ReadAsync(ct))
            return false;
        Line = _lines.Number;
        Order = null;
        Reason = null;
        if (_lines.IsTooLong)
            Reason = TooLongReason;
        else if (!_lines.Text.Span.IsWhiteSpace())
        {
            Order = TryParse(_lines.Text.Span, out var order, out var reason) ? order : null;
            Reason = reason;
        }
        return true;
    }

    public override void Dispose() => _lines.Dispose();

    private static bool TryParse(ReadOnlySpan<char> line, out OrderInput? order, out string? reason)
    {
        try
        {
            order = JsonSerializer.Deserialize<OrderInput>(line, CrmJson.Options);
        }
        catch (JsonException e)
        {
            // A broken line is the client's data, reported like a validation error.
            order = null;
            reason = JsonReason(e);
            return false;
        }
        reason = order is null ? NotAnObject : null;
        return order is not null;
    }

    // System.Text.Json messages name .NET types; keep the field and what the client can fix.
    private static string JsonReason(JsonException e)
    {
        var unmapped = UnmappedProperty().Match(e.Message);
        if (unmapped.Success)
            return $"{OrderText.Shorten(unmapped.Groups[1].Value)}: unknown field";

        var path = e.Path is { Length: > 2 } p && p.StartsWith("$.", StringComparison.Ordinal) ? OrderText.Shorten(p[2..]) : null;
        var field = path;
        var expected = "has the wrong type";
        if (path is not null && OrderText.TryGetField(path, out var known))
        {
            field = OrderText.Name(known);
            expected = OrderText.ExpectedFormat(known);
        }
        if (e.Message.Contains("could not be converted", StringComparison.Ordinal))
            return field is null ? NotAnObject : $"{field}: {expected}";

        var message = e.Message;
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut < 0)
            cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut >= 0)
            message = message[..cut];
        return field is null ? $"invalid JSON: {message}" : $"{field}: invalid JSON: {message}";
    }

    [GeneratedRegex("JSON property '([^']+)' could not be mapped")]
    private static partial Regex UnmappedProperty();
}
