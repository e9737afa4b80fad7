using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Crm.Jobs.Data;
using Crm.Jobs.Phones;
using Crm.Jobs.Sync;
using FluentValidation;
using Microsoft.Extensions.DependencyInjection;
using nietras.SeparatedValues;
using Npgsql;
using NpgsqlTypes;

namespace Crm.Jobs.Orders;

public enum ImportFormat
{
    Ndjson,
    Csv,
}

public sealed record ImportError(long Line, string Reason);

public sealed record ImportResult(int Imported, int Rejected, IReadOnlyList<ImportError> Errors, int CustomersAffected);

// Bulk orders from NDJSON or CSV: every record is parsed and validated like POST /api/orders,
// bad records are reported and skipped, good ones are streamed into one binary COPY. The
// whole import is one transaction: a failure or a cancellation leaves nothing behind.
public sealed partial class OrderImporter(
    [FromKeyedServices(CrmDataSources.Jobs)] NpgsqlDataSource dataSource, PhoneNormalizer phones, IValidator<OrderInput> validator, TimeProvider clock)
{
    public const int MaxReportedErrors = 100;
    public const int MaxLineLength = 64 * 1024; // characters; longer lines (CSV: records) are rejected and skipped, never buffered whole
    public const int MaxCachedPhones = 100_000;

    private const string CopySql = """
        COPY orders (customer_name, customer_phone, normalized_phone, customer_email, delivery_city,
                     delivery_address, total_amount, status, created_at, updated_at, source)
        FROM STDIN (FORMAT BINARY)
        """;

    private static readonly string ImportSource = EnumText.ToText(OrderSource.Import);

    private static readonly string TooLongReason = $"line is longer than {MaxLineLength} characters";
    private static readonly string TooLongRecordReason = $"record is longer than {MaxLineLength} characters";

    // Strict: text in another encoding fails the import instead of landing as U+FFFD.
    // The BOM-emitting flavour makes StreamReader skip a leading BOM (Excel writes one).
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: true, throwOnInvalidBytes: true);

    private static StreamReader StrictReader(Stream body) =>
        new(body, StrictUtf8, detectEncodingFromByteOrderMarks: false, bufferSize: 1 << 16, leaveOpen: true);

    public async Task<ImportResult> ImportAsync(Stream body, ImportFormat format, CancellationToken ct)
    {
        if (!Enum.IsDefined(format))
            throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown import format.");

        Records records;
        if (format == ImportFormat.Csv)
        {
            // A bad header makes every row meaningless: fail before touching the database.
            var (csv, headerError) = await CsvRecords.OpenAsync(body, ct);
            if (csv is null)
                return new ImportResult(0, 0, headerError is null ? [] : [headerError], 0);
            records = csv;
        }
        else
        {
            records = new NdjsonRecords(body);
        }
        using var _ = records;

        var errors = new List<ImportError>();
        var rejected = 0;
        var now = clock.GetUtcNow().UtcDateTime;
        var imported = 0;
        var affected = new HashSet<string>(StringComparer.Ordinal);
        var phoneCache = new PhoneCache(phones, MaxCachedPhones);

        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var copy = await connection.BeginBinaryImportAsync(CopySql, ct))
        {
            while (await records.ReadAsync(ct))
            {
                // Data already buffered is not read from the body, so ask the token ourselves.
                ct.ThrowIfCancellationRequested();
                var order = records.Order;
                var reason = records.Reason;
                if (order is null && reason is null)
                    continue; // a blank line
                if (order is null || !IsValid(order, out reason))
                {
                    rejected++;
                    if (errors.Count < MaxReportedErrors)
                        errors.Add(new ImportError(records.Line, reason!));
                    continue;
                }

                var normalizedPhone = phoneCache.Normalize(order.CustomerPhone);
                await WriteRowAsync(copy, order, normalizedPhone, now, ct);
                imported++;
                if (normalizedPhone is not null)
                    affected.Add(normalizedPhone);
            }
            await copy.CompleteAsync(ct);
        }

        if (affected.Count > 0)
            await SyncScheduler.RecordAsync(connection, transaction, affected, ct);
        await transaction.CommitAsync(ct);
        return new ImportResult(imported, rejected, errors, affected.Count);
    }

    private static async Task WriteRowAsync(
        NpgsqlBinaryImporter copy, OrderInput order, string? normalizedPhone, DateTime now, CancellationToken ct)
    {
        await copy.StartRowAsync(ct);
        // The text columns are NOT NULL DEFAULT '': a missing value is stored as ''.
        await copy.WriteAsync(order.CustomerName ?? "", NpgsqlDbType.Varchar, ct);
        await copy.WriteAsync(order.CustomerPhone ?? "", NpgsqlDbType.Varchar, ct);
        if (normalizedPhone is null)
            await copy.WriteNullAsync(ct);
        else
            await copy.WriteAsync(normalizedPhone, NpgsqlDbType.Varchar, ct);
        await copy.WriteAsync(order.CustomerEmail ?? "", NpgsqlDbType.Varchar, ct);
        await copy.WriteAsync(order.DeliveryCity ?? "", NpgsqlDbType.Varchar, ct);
        await copy.WriteAsync(order.DeliveryAddress ?? "", NpgsqlDbType.Varchar, ct);
        await copy.WriteAsync(order.TotalAmount!.Value, NpgsqlDbType.Numeric, ct);
        await copy.WriteAsync(StatusTexts[order.Status ?? OrderStatus.New], NpgsqlDbType.Varchar, ct);
        await copy.WriteAsync(order.CreatedAt?.UtcDateTime ?? now, NpgsqlDbType.TimestampTz, ct);
        await copy.WriteAsync(now, NpgsqlDbType.TimestampTz, ct);
        await copy.WriteAsync(ImportSource, NpgsqlDbType.Varchar, ct);
    }

    // The rules are synchronous; Validate avoids a Task per row.
    private bool IsValid(OrderInput order, out string? reason) => IsValid(validator, order, out reason);

    // Shared with the shop's follower: one wording for a rejected order wherever it came from.
    internal static bool IsValid(IValidator<OrderInput> validator, OrderInput order, out string? reason)
    {
        var result = validator.Validate(order);
        reason = result.IsValid
            ? null
            : string.Join("; ", result.Errors.Select(e => $"{JsonNamingPolicy.CamelCase.ConvertName(e.PropertyName)}: {e.ErrorMessage}"));
        return result.IsValid;
    }

    // ---- Records ----

    // One record of the body at a time: a parsed order, a reason to reject it, or neither
    // for a blank line; Line is the physical line the record starts on.
    private abstract class Records : IDisposable
    {
        public long Line { get; protected set; }
        public OrderInput? Order { get; protected set; }
        public string? Reason { get; protected set; }

        public abstract ValueTask<bool> ReadAsync(CancellationToken ct);

        public abstract void Dispose();
    }

    // Each distinct spelling is parsed once (libphonenumber is the costliest step per order,
    // and a shop's file repeats its customers' phones); cleared when full, so an import of
    // millions of distinct phones keeps a flat memory.
    internal sealed class PhoneCache(PhoneNormalizer phones, int capacity)
    {
        private readonly Dictionary<string, string?> _e164 = new(StringComparer.Ordinal);

        public int Count => _e164.Count;

        public string? Normalize(string? raw)
        {
            if (raw is null)
                return null;
            if (_e164.TryGetValue(raw, out var e164))
                return e164;
            if (_e164.Count >= capacity)
                _e164.Clear();
            e164 = phones.Normalize(raw);
            _e164.Add(raw, e164);
            return e164;
        }
    }

    // ---- NDJSON ----

    // NDJSON has no quoted line breaks: one physical line is one record.
    private sealed class NdjsonRecords(Stream body) : Records
    {
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
                Order = TryParseJson(_lines.Text.Span, out var order, out var reason) ? order : null;
                Reason = reason;
            }
            return true;
        }

        public override void Dispose() => _lines.Dispose();
    }

    private static bool TryParseJson(ReadOnlySpan<char> line, out OrderInput? order, out string? reason)
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

    private const string NotAnObject = "line is not a JSON object";

    // System.Text.Json messages name .NET types; keep the field and what the client can fix.
    private static string JsonReason(JsonException e)
    {
        var unmapped = UnmappedProperty().Match(e.Message);
        if (unmapped.Success)
            return $"{Shorten(unmapped.Groups[1].Value)}: unknown field";

        var path = e.Path is { Length: > 2 } p && p.StartsWith("$.", StringComparison.Ordinal) ? Shorten(p[2..]) : null;
        var field = path;
        var expected = "has the wrong type";
        if (path is not null && ColumnNames.TryGetValue(path, out var column))
        {
            field = FieldNames[(int)column];
            expected = ExpectedFormats[(int)column];
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

    // A name from the body is echoed in the reason; a 60 000-character one would bloat the report.
    private static string Shorten(string name) => name.Length <= 100 ? name : name[..100] + "…";

    [GeneratedRegex("JSON property '([^']+)' could not be mapped")]
    private static partial Regex UnmappedProperty();

    // ---- CSV ----

    // The CSV columns, in OrderInput's order; the header may name them in any order.
    private enum Column
    {
        CustomerName,
        CustomerPhone,
        CustomerEmail,
        DeliveryCity,
        DeliveryAddress,
        TotalAmount,
        Status,
        CreatedAt,
    }

    private static readonly string[] FieldNames =
        Enum.GetValues<Column>().Select(c => JsonNamingPolicy.CamelCase.ConvertName(c.ToString())).ToArray();

    // "customerName" and "customer_name", in any letter case.
    private static readonly Dictionary<string, Column> ColumnNames = Enum.GetValues<Column>()
        .SelectMany(c => new[] { JsonNamingPolicy.CamelCase.ConvertName(c.ToString()), JsonNamingPolicy.SnakeCaseLower.ConvertName(c.ToString()) }
            .Distinct()
            .Select(name => KeyValuePair.Create(name, c)))
        .ToDictionary(StringComparer.OrdinalIgnoreCase);

    private static readonly Dictionary<OrderStatus, string> StatusTexts =
        Enum.GetValues<OrderStatus>().ToDictionary(s => s, EnumText.ToText);

    private static readonly string[] ExpectedFormats = Enum.GetValues<Column>().Select(c => c switch
    {
        Column.TotalAmount => "must be a number like 1234.50",
        Column.Status => $"must be one of {string.Join(", ", StatusTexts.Values)}",
        Column.CreatedAt => "must be an ISO 8601 date and time like 2026-11-25T10:30:00Z",
        _ => "must be text",
    }).ToArray();

    private const NumberStyles AmountStyle = NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint;

    // Sep finds the records and their fields (RFC 4180: quoted separators, "" and line
    // breaks); the cells are decoded here. Sep's Unescape is off on purpose: it accepts
    // `"Iv"an` as `Ivan` without a word and leaves `a, "b, c"` quoted, while a shop's
    // hand-edited file deserves "text after the closing quote" and the spaces tolerated.
    private static readonly SepReaderOptions CsvOptions = new(new Sep(','))
    {
        HasHeader = false, // read by hand: blank lines may precede it, and its errors name the line
        DisableColCountCheck = true, // a row with a wrong count is reported and skipped, not thrown
        DisableQuotesParsing = false,
        Unescape = false,
        Trim = SepTrim.None, // unquoted text is stored as sent; typed cells are trimmed here
        CultureInfo = CultureInfo.InvariantCulture,
    };

    private sealed class CsvRecords : Records
    {
        private readonly CsvText _text;
        private readonly SepReader _reader;
        private readonly Column[] _columns;

        private CsvRecords(CsvText text, SepReader reader, Column[] columns)
        {
            _text = text;
            _reader = reader;
            _columns = columns;
        }

        // The records after the header; null with the header's error, or with none for a body without rows.
        public static async Task<(CsvRecords? Records, ImportError? HeaderError)> OpenAsync(Stream body, CancellationToken ct)
        {
            CsvText? text = new(body);
            SepReader? reader = null;
            try
            {
                reader = await CsvOptions.FromAsync(text, leaveOpen: true, ct);
                while (await reader.MoveNextAsync(ct))
                {
                    var (columns, error) = ParseCsvHeader(reader.Current, text);
                    if (error is not null)
                        return (null, error);
                    if (columns is not null)
                    {
                        var records = new CsvRecords(text, reader, columns);
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
                Reason = TooLongRecordReason;
            else if (!row.Span.IsWhiteSpace())
            {
                Order = TryParseCsv(row, _columns, out var order, out var reason) ? order : null;
                Reason = reason;
            }
        }

        public override void Dispose()
        {
            _reader.Dispose();
            _text.Dispose();
        }
    }

    // Sep's number for the line a row starts on. Without a header, Sep 0.17 reads the first row
    // twice on opening and reports it as starting where it ends; it starts on line 1.
    private static int FirstLine(SepReader.Row row) => row.RowIndex == 0 ? 1 : row.LineNumberFrom;

    // The columns, or the error, or neither for a blank row (blank lines may precede the header).
    private static (Column[]? Columns, ImportError? Error) ParseCsvHeader(SepReader.Row row, CsvText text)
    {
        var sepLine = FirstLine(row);
        var line = text.PhysicalLine(sepLine);
        if (text.WasCut(sepLine))
            return (null, new ImportError(line, TooLongRecordReason));
        if (row.Span.IsWhiteSpace())
            return (null, null);

        var columns = new Column[row.ColCount];
        for (var i = 0; i < columns.Length; i++)
        {
            if (!TryCell(row[i].Span, out var cell, out var escaped, out var problem))
                return (null, new ImportError(line, $"column {i + 1}: {problem}"));
            var name = CellText(cell, escaped)?.Trim() ?? "";
            if (!ColumnNames.TryGetValue(name, out columns[i]))
                return (null, new ImportError(line, name.Length == 0 ? $"column {i + 1} has no name" : $"{Shorten(name)}: unknown column"));
            if (Array.IndexOf(columns, columns[i], 0, i) >= 0)
                return (null, new ImportError(line, $"{FieldNames[(int)columns[i]]}: duplicate column"));
        }
        if (!columns.Contains(Column.TotalAmount))
            return (null, new ImportError(line, $"{FieldNames[(int)Column.TotalAmount]}: column is required"));
        return (columns, null);
    }

    private static bool TryParseCsv(SepReader.Row row, Column[] columns, out OrderInput? order, out string? reason)
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
                case Column.CustomerName: name = CellText(cell, escaped); break;
                case Column.CustomerPhone: phone = CellText(cell, escaped); break;
                case Column.CustomerEmail: email = CellText(cell, escaped); break;
                case Column.DeliveryCity: city = CellText(cell, escaped); break;
                case Column.DeliveryAddress: address = CellText(cell, escaped); break;
                case Column.TotalAmount:
                    ok = typed.IsEmpty || TryParseAmount(typed, out amount);
                    break;
                case Column.Status:
                    ok = typed.IsEmpty || TryParseStatus(typed, out status);
                    break;
                case Column.CreatedAt:
                    ok = typed.IsEmpty || TryParseDate(typed, out createdAt);
                    break;
            }
            if (!ok)
            {
                reason = $"{FieldNames[(int)column]}: {ExpectedFormats[(int)column]}";
                return false;
            }
        }

        order = new OrderInput(name, phone, email, city, address, amount, status, createdAt);
        return true;
    }

    internal static bool TryParseAmount(ReadOnlySpan<char> text, out decimal? amount)
    {
        var ok = decimal.TryParse(text, AmountStyle, CultureInfo.InvariantCulture, out var value);
        amount = value;
        return ok;
    }

    // Only the exact stored text ("new", not "New"): what the file says is what lands.
    private static bool TryParseStatus(ReadOnlySpan<char> text, out OrderStatus? status)
    {
        foreach (var (value, name) in StatusTexts)
        {
            if (text.SequenceEqual(name))
            {
                status = value;
                return true;
            }
        }
        status = null;
        return false;
    }

    // Invariant parsing also reads "01/02/2026" (month first); only an ISO date is unambiguous.
    internal static bool TryParseDate(ReadOnlySpan<char> text, out DateTimeOffset? date)
    {
        date = null;
        if (text.Length < 10 || text[4] != '-' || text[7] != '-')
            return false;
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value))
            return false;
        date = value;
        return true;
    }

    private static string ColumnName(Column[] columns, int index) =>
        index < columns.Length ? FieldNames[(int)columns[index]] : $"column {index + 1}";

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

    // ---- Lines ----

    // Physical lines of UTF-8 text ("\n" or "\r\n"). Holds one block and at most one line:
    // past MaxLineLength the rest of a line is skipped, never stored.
    private sealed class LineReader(Stream body) : IDisposable
    {
        private readonly StreamReader _reader = StrictReader(body);
        private readonly char[] _block = new char[1 << 16];
        private readonly char[] _carry = new char[MaxLineLength + 1]; // the line plus the '\r' of "\r\n"
        private int _position;
        private int _end;

        // 1-based number of the current line.
        public long Number { get; private set; }

        // The current line without its line break; valid until the next ReadAsync.
        public ReadOnlyMemory<char> Text { get; private set; }

        public bool IsTooLong { get; private set; }

        public async ValueTask<bool> ReadAsync(CancellationToken ct)
        {
            var carried = 0;
            var tooLong = false;
            var started = false;
            while (true)
            {
                if (_position == _end)
                {
                    _position = 0;
                    _end = await ReadBlockAsync(ct);
                    if (_end == 0)
                        return started && Finish(_carry.AsMemory(0, carried), tooLong);
                }
                started = true;
                var available = _block.AsMemory(_position, _end - _position);
                var newline = available.Span.IndexOf('\n');
                var piece = newline < 0 ? available : available[..newline];
                _position += newline < 0 ? piece.Length : newline + 1;

                // A line inside one block is used in place; one that spans blocks is copied.
                if (newline >= 0 && carried == 0 && !tooLong)
                    return Finish(piece, false);
                if (!tooLong && carried + piece.Length <= _carry.Length)
                {
                    piece.CopyTo(_carry.AsMemory(carried));
                    carried += piece.Length;
                }
                else
                {
                    tooLong = true;
                }
                if (newline >= 0)
                    return Finish(_carry.AsMemory(0, carried), tooLong);
            }
        }

        private bool Finish(ReadOnlyMemory<char> line, bool tooLong)
        {
            Number++;
            if (line.Span is [.., '\r'])
                line = line[..^1];
            IsTooLong = tooLong || line.Length > MaxLineLength;
            Text = IsTooLong ? ReadOnlyMemory<char>.Empty : line;
            return true;
        }

        private async ValueTask<int> ReadBlockAsync(CancellationToken ct)
        {
            try
            {
                return await _reader.ReadAsync(_block, ct);
            }
            catch (DecoderFallbackException e)
            {
                throw new InvalidDataException($"The body is not valid UTF-8 (near line {Number + 1}).", e);
            }
        }

        public void Dispose() => _reader.Dispose();
    }

    // The body's text as Sep reads it, with every CSV record (RFC 4180: a line break inside
    // quotes does not end one) cut at MaxLineLength characters, so Sep never buffers more
    // than one bounded record. A cut record reaches Sep as its first MaxLineLength
    // characters, a closing quote if one is open, and a line break; the rest of it is
    // skipped. Sep numbers the lines of what it reads, so after a cut its numbers differ from
    // the body's: WasCut and PhysicalLine translate them. Tracks quotes as Sep does (a quote
    // toggles, a line break outside quotes ends the record), so both agree on every record.
    private sealed class CsvText(Stream body) : TextReader
    {
        private static readonly SearchValues<char> Special = SearchValues.Create("\"\r\n");

        private readonly StreamReader _reader = StrictReader(body);
        private readonly char[] _block = new char[1 << 16];
        private int _position;
        private int _end;

        private bool _inQuote;
        private bool _afterCr; // the last character was '\r': a '\n' now completes its line break
        private int _recordLength; // characters of the current record handed to Sep, line breaks inside quotes included
        private bool _skipping; // dropping the rest of a cut record
        private bool _swallowLf; // a skipped record ended with '\r': its '\n' must not reach Sep as an empty row
        private string _inserted = ""; // the end of a cut record, still to hand to Sep
        private int _insertedAt;

        private int _sepLine = 1; // Sep's number for the line of the next character it reads
        private long _bodyLine = 1; // the body's number for the line of the next character
        private int _recordSepLine = 1; // Sep's number for the current record's first line

        private readonly Queue<int> _cut = new(); // Sep's first-line numbers of cut records
        private readonly Queue<(int SepLine, long Shift)> _shifts = new(); // from SepLine on, body line = Sep line + Shift
        private long _shift;

        // True when the record Sep numbers as starting on sepLine was cut. Asked in order.
        public bool WasCut(int sepLine)
        {
            while (_cut.TryPeek(out var cut) && cut < sepLine)
                _cut.Dequeue();
            return _cut.TryPeek(out var next) && next == sepLine && _cut.TryDequeue(out _);
        }

        // The body's line number for Sep's. Asked in order.
        public long PhysicalLine(int sepLine)
        {
            while (_shifts.TryPeek(out var shift) && shift.SepLine <= sepLine)
                _shift = _shifts.Dequeue().Shift;
            return sepLine + _shift;
        }

        public override async ValueTask<int> ReadAsync(Memory<char> buffer, CancellationToken ct = default)
        {
            if (buffer.IsEmpty)
                return 0;
            while (true)
            {
                if (_position == _end && _insertedAt == _inserted.Length)
                {
                    _position = 0;
                    _end = await ReadBlockAsync(ct);
                    if (_end == 0)
                        return 0;
                }
                var written = Transfer(buffer.Span);
                if (written > 0)
                    return written;
            }
        }

        // The importer reads asynchronously only; a blocking read of a request body would hold a thread.
        public override int Read(char[] buffer, int index, int count) =>
            throw new NotSupportedException("CsvText is read with ReadAsync.");

        // Moves characters of the block to Sep's buffer; 0 when all that was left was skipped.
        private int Transfer(Span<char> output)
        {
            var written = 0;
            while (written < output.Length)
            {
                if (_insertedAt < _inserted.Length)
                {
                    output[written++] = _inserted[_insertedAt++];
                    continue;
                }
                if (_position == _end)
                    break;
                if (_skipping)
                {
                    Skip();
                    continue;
                }
                if (_swallowLf)
                {
                    _swallowLf = false;
                    if (_block[_position] == '\n')
                    {
                        _position++;
                        continue;
                    }
                }

                var input = _block.AsSpan(_position, Math.Min(_end - _position, output.Length - written));
                var special = input.IndexOfAny(Special);
                var plain = special < 0 ? input.Length : special;
                if (plain > 0)
                {
                    var allowed = Math.Min(plain, MaxLineLength - _recordLength);
                    input[..allowed].CopyTo(output[written..]);
                    written += allowed;
                    _position += allowed;
                    _recordLength += allowed;
                    _afterCr = false;
                    if (allowed < plain)
                        Cut();
                    continue;
                }

                var c = input[0];
                var endsRecord = !_inQuote && (c == '\r' || (c == '\n' && !_afterCr));
                var isContent = _inQuote || c == '"';
                if (isContent && _recordLength == MaxLineLength)
                {
                    Cut();
                    continue;
                }
                output[written++] = c;
                _position++;
                if (isContent)
                    _recordLength++;
                if (c == '"')
                    _inQuote = !_inQuote;
                if (c == '\r' || (c == '\n' && !_afterCr))
                {
                    _sepLine++;
                    _bodyLine++;
                }
                _afterCr = c == '\r';
                if (endsRecord)
                {
                    _recordLength = 0;
                    _recordSepLine = _sepLine;
                }
            }
            return written;
        }

        // The record is too long: end it for Sep here and drop the rest of it.
        private void Cut()
        {
            _cut.Enqueue(_recordSepLine);
            _inserted = _inQuote ? "\"\n" : "\n";
            _insertedAt = 0;
            _sepLine++;
            _skipping = true;
        }

        private void Skip()
        {
            while (_position < _end)
            {
                var rest = _block.AsSpan(_position, _end - _position);
                var special = rest.IndexOfAny(Special);
                if (special < 0)
                {
                    _position = _end;
                    _afterCr = false;
                    return;
                }
                var c = rest[special];
                var afterCr = _afterCr && special == 0;
                _position += special + 1;
                var lineBreak = c == '\r' || (c == '\n' && !afterCr);
                _afterCr = c == '\r';
                if (c == '"')
                    _inQuote = !_inQuote;
                if (!lineBreak)
                    continue;
                _bodyLine++;
                if (_inQuote)
                    continue;

                _skipping = false;
                _swallowLf = c == '\r';
                _afterCr = false;
                _recordLength = 0;
                _recordSepLine = _sepLine;
                _shifts.Enqueue((_sepLine, _bodyLine - _sepLine));
                return;
            }
        }

        private async ValueTask<int> ReadBlockAsync(CancellationToken ct)
        {
            try
            {
                return await _reader.ReadAsync(_block, ct);
            }
            catch (DecoderFallbackException e)
            {
                throw new InvalidDataException($"The body is not valid UTF-8 (near line {_bodyLine}).", e);
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                _reader.Dispose();
            base.Dispose(disposing);
        }
    }
}
