using System.Globalization;
using nietras.SeparatedValues;

namespace Crm.Jobs.Orders;

// The records of a CSV body after its header, which may name the columns (OrderField names,
// camelCase or snake_case) in any order.
internal sealed class CsvOrderRecords : OrderRecords
{
    private static readonly string TooLongReason = $"record is longer than {OrderImporter.MaxLineLength} characters";

    // Sep finds the records and their fields (RFC 4180: quoted separators, "" and line
    // breaks); the cells are decoded here. Sep's Unescape is off on purpose: it accepts
    // `"Iv"an` as `Ivan` without a word and leaves `a, "b, c"` quoted, while a shop's
    // hand-edited file deserves "text after the closing quote" and the spaces tolerated.
    private static readonly SepReaderOptions Options = new(new Sep(','))
    {
        HasHeader = false, // read by hand: blank lines may precede it, and its errors name the line
        DisableColCountCheck = true, // a row with a wrong count is reported and skipped, not thrown
        DisableQuotesParsing = false,
        Unescape = false,
        Trim = SepTrim.None, // unquoted text is stored as sent; typed cells are trimmed here
        CultureInfo = CultureInfo.InvariantCulture,
    };

    private readonly CsvText _text;
    private readonly SepReader _reader;
    private readonly OrderField[] _columns;

    private CsvOrderRecords(CsvText text, SepReader reader, OrderField[] columns)
    {
        _text = text;
        _reader = reader;
        _columns = columns;
    }

    // The records after the header; null with the header's error, or with none for a body without rows.
    public static async Task<(CsvOrderRecords? Records, ImportError? HeaderError)> OpenAsync(Stream body, CancellationToken ct)
    {
        CsvText? text = new(body);
        SepReader? reader = null;
        try
        {
            reader = await Options.FromAsync(text, leaveOpen: true, ct);
            while (await reader.MoveNextAsync(ct))
            {
                var (columns, error) = ParseHeader(reader.Current, text);
                if (error is not null)
                    return (null, error);
                if (columns is not null)
                {
                    var records = new CsvOrderRecords(text, reader, columns);
                    reader = null;
                    text = null;
                    return (records, null);
                }
            }
            return (null, null);
        }
        finally
        {
            reader?.Dispose();
            text?.Dispose();
        }
    }

    public override async ValueTask<bool> ReadAsync(CancellationToken ct)
    {
        if (!await _reader.MoveNextAsync(ct))
            return false;
        Read(_reader.Current);
        return true;
    }

    private void Read(SepReader.Row row)
    {
        var sepLine = FirstLine(row);
        Line = _text.PhysicalLine(sepLine);
        Order = null;
        Reason = null;
        if (_text.WasCut(sepLine))
            Reason = TooLongReason;
        else if (!row.Span.IsWhiteSpace())
        {
            Order = TryParse(row, _columns, out var order, out var reason) ? order : null;
            Reason = reason;
        }
    }

    public override void Dispose()
    {
        _reader.Dispose();
        _text.Dispose();
    }

    // Sep's number for the line a row starts on. Without a header, Sep 0.17 reads the first row
    // twice on opening and reports it as starting where it ends; it starts on line 1.
    private static int FirstLine(SepReader.Row row) => row.RowIndex == 0 ? 1 : row.LineNumberFrom;

    // The columns, or the error, or neither for a blank row (blank lines may precede the header).
    private static (OrderField[]? Columns, ImportError? Error) ParseHeader(SepReader.Row row, CsvText text)
    {
        var sepLine = FirstLine(row);
        var line = text.PhysicalLine(sepLine);
        if (text.WasCut(sepLine))
            return (null, new ImportError(line, TooLongReason));
        if (row.Span.IsWhiteSpace())
            return (null, null);

        var columns = new OrderField[row.ColCount];
        for (var i = 0; i < columns.Length; i++)
        {
            if (!TryCell(row[i].Span, out var cell, out var escaped, out var problem))
                return (null, new ImportError(line, $"column {i + 1}: {problem}"));
            var name = CellText(cell, escaped)?.Trim() ?? "";
            if (!OrderText.TryGetField(name, out columns[i]))
                return (null, new ImportError(line, name.Length == 0 ? $"column {i + 1} has no name" : $"{OrderText.Shorten(name)}: unknown column"));
            if (Array.IndexOf(columns, columns[i], 0, i) >= 0)
                return (null, new ImportError(line, $"{OrderText.Name(columns[i])}: duplicate column"));
        }
        if (!columns.Contains(OrderField.TotalAmount))
            return (null, new ImportError(line, $"{OrderText.Name(OrderField.TotalAmount)}: column is required"));
        return (columns, null);
    }

    private static bool TryParse(SepReader.Row row, OrderField[] columns, out OrderInput? order, out string? reason)
    {
        order = null;
        reason = null;
        var count = row.ColCount;
        // Quoting first: an unterminated quote runs to the end of the body, and that, not the
        // field count it leaves, is what the client has to fix.
        if (row.Span.Contains('"'))
        {
            for (var i = 0; i < count; i++)
            {
                if (!TryCell(row[i].Span, out _, out _, out var problem))
                {
                    reason = $"{ColumnName(columns, i)}: {problem}";
                    return false;
                }
            }
        }
        if (count != columns.Length)
        {
            reason = $"expected {columns.Length} fields, found {count}";
            return false;
        }

        string? name = null, phone = null, email = null, city = null, address = null;
        decimal? amount = null;
        OrderStatus? status = null;
        DateTimeOffset? createdAt = null;
        for (var i = 0; i < count; i++)
        {
            var column = columns[i];
            TryCell(row[i].Span, out var cell, out var escaped, out _);
            // Typed cells ignore surrounding spaces; text cells are stored as sent.
            var typed = cell.Trim(' ');
            var ok = true;
            switch (column)
            {
                case OrderField.CustomerName: name = CellText(cell, escaped); break;
                case OrderField.CustomerPhone: phone = CellText(cell, escaped); break;
                case OrderField.CustomerEmail: email = CellText(cell, escaped); break;
                case OrderField.DeliveryCity: city = CellText(cell, escaped); break;
                case OrderField.DeliveryAddress: address = CellText(cell, escaped); break;
                case OrderField.TotalAmount:
                    ok = typed.IsEmpty || OrderText.TryParseAmount(typed, out amount);
                    break;
                case OrderField.Status:
                    ok = typed.IsEmpty || OrderText.TryParseStatus(typed, out status);
                    break;
                case OrderField.CreatedAt:
                    ok = typed.IsEmpty || OrderText.TryParseDate(typed, out createdAt);
                    break;
            }
            if (!ok)
            {
                reason = $"{OrderText.Name(column)}: {OrderText.ExpectedFormat(column)}";
                return false;
            }
        }

        order = new OrderInput(name, phone, email, city, address, amount, status, createdAt);
        return true;
    }

    private static string ColumnName(OrderField[] columns, int index) =>
        index < columns.Length ? OrderText.Name(columns[index]) : $"column {index + 1}";

    // An empty cell is null; "" inside a quoted cell is one quote.
    private static string? CellText(ReadOnlySpan<char> cell, bool escaped)
    {
        if (cell.IsEmpty)
            return null;
        return escaped ? cell.ToString().Replace("\"\"", "\"") : cell.ToString();
    }

    // A field as Sep delimits it, without its quotes; Escaped when it holds "". Spaces around
    // a quoted cell are tolerated, since hand-written files put `a, "b, c"` as often as
    // `a,"b, c"`; an unquoted cell is taken as sent, quotes and all.
    private static bool TryCell(ReadOnlySpan<char> field, out ReadOnlySpan<char> cell, out bool escaped, out string? problem)
    {
        cell = field;
        escaped = false;
        problem = null;
        var quoted = field.Trim(' ');
        if (quoted is not ['"', ..])
            return true;

        var end = 1;
        while (true)
        {
            var next = quoted[end..].IndexOf('"');
            if (next < 0)
            {
                problem = "unterminated quote";
                return false;
            }
            end += next;
            if (end + 1 < quoted.Length && quoted[end + 1] == '"')
            {
                escaped = true;
                end += 2;
                continue;
            }
            break;
        }
        if (end != quoted.Length - 1)
        {
            problem = "text after the closing quote";
            return false;
        }
        cell = quoted[1..end];
        return true;
    }
}
