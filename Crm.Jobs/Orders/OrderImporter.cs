using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Crm.Jobs.Data;
using Crm.Jobs.Phones;
using Crm.Jobs.Sync;
using FluentValidation;
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

// Bulk orders from NDJSON or CSV: every line is parsed and validated like POST /api/orders,
// bad lines are reported and skipped, good ones are streamed into one binary COPY. The
// whole import is one transaction: a failure or a cancellation leaves nothing behind.
public sealed partial class OrderImporter(
    NpgsqlDataSource dataSource, PhoneNormalizer phones, IValidator<OrderInput> validator, TimeProvider clock)
{
    public const int MaxReportedErrors = 100;
    public const int MaxLineLength = 64 * 1024; // characters; longer lines are rejected and skipped, never buffered whole

    private const string CopySql = """
        COPY orders (customer_name, customer_phone, normalized_phone, customer_email, delivery_city,
                     delivery_address, total_amount, status, created_at, updated_at)
        FROM STDIN (FORMAT BINARY)
        """;

    private static readonly string TooLongReason = $"line is longer than {MaxLineLength} characters";

    public async Task<ImportResult> ImportAsync(Stream body, ImportFormat format, CancellationToken ct)
    {
        if (!Enum.IsDefined(format))
            throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown import format.");

        using var lines = new LineReader(body);
        var errors = new List<ImportError>();
        var rejected = 0;
        void Reject(long line, string reason)
        {
            rejected++;
            if (errors.Count < MaxReportedErrors)
                errors.Add(new ImportError(line, reason));
        }

        Column[] columns = [];
        if (format == ImportFormat.Csv)
        {
            // A bad header makes every row meaningless: fail before touching the database.
            var header = await ReadCsvHeaderAsync(lines, ct);
            if (header.Error is not null)
                return new ImportResult(0, 0, [header.Error], 0);
            if (header.Columns is null)
                return new ImportResult(0, 0, [], 0);
            columns = header.Columns;
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var imported = 0;
        var affected = new HashSet<string>(StringComparer.Ordinal);
        var fields = new List<CsvField>();

        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var copy = await connection.BeginBinaryImportAsync(CopySql, ct))
        {
            while (await lines.ReadAsync(ct))
            {
                // Data already buffered is not read from the body, so ask the token ourselves.
                ct.ThrowIfCancellationRequested();
                if (lines.IsTooLong)
                {
                    Reject(lines.Number, TooLongReason);
                    continue;
                }
                if (lines.Text.Span.IsWhiteSpace())
                    continue;

                var parsed = format == ImportFormat.Ndjson
                    ? TryParseJson(lines.Text.Span, out var order, out var reason)
                    : TryParseCsv(lines.Text.Span, columns, fields, out order, out reason);
                if (!parsed || !IsValid(order!, out reason))
                {
                    Reject(lines.Number, reason!);
                    continue;
                }

                var normalizedPhone = phones.Normalize(order!.CustomerPhone);
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
    }

    // The rules are synchronous; Validate avoids a Task per row.
    private bool IsValid(OrderInput order, out string? reason)
    {
        var result = validator.Validate(order);
        reason = result.IsValid
            ? null
            : string.Join("; ", result.Errors.Select(e => $"{JsonNamingPolicy.CamelCase.ConvertName(e.PropertyName)}: {e.ErrorMessage}"));
        return result.IsValid;
    }

    // ---- NDJSON ----

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

    private readonly record struct CsvHeader(Column[]? Columns, ImportError? Error);

    // Start and length of a cell within its line, without the quotes; Escaped when it holds "".
    private readonly record struct CsvField(int Start, int Length, bool Escaped);

    private static async Task<CsvHeader> ReadCsvHeaderAsync(LineReader lines, CancellationToken ct)
    {
        while (await lines.ReadAsync(ct))
        {
            if (lines.IsTooLong)
                return new CsvHeader(null, new ImportError(lines.Number, TooLongReason));
            if (!lines.Text.Span.IsWhiteSpace())
                return ParseCsvHeader(lines.Text.Span, lines.Number);
        }
        return new CsvHeader(null, null);
    }

    private static CsvHeader ParseCsvHeader(ReadOnlySpan<char> line, long number)
    {
        var fields = new List<CsvField>();
        if (!TrySplitCsv(line, fields, out var badCell, out var problem))
            return new CsvHeader(null, new ImportError(number, $"column {badCell + 1}: {problem}"));

        var columns = new Column[fields.Count];
        for (var i = 0; i < fields.Count; i++)
        {
            var name = CellText(line, fields[i])?.Trim() ?? "";
            if (!ColumnNames.TryGetValue(name, out columns[i]))
                return new CsvHeader(null, new ImportError(number, name.Length == 0 ? $"column {i + 1} has no name" : $"{Shorten(name)}: unknown column"));
            if (Array.IndexOf(columns, columns[i], 0, i) >= 0)
                return new CsvHeader(null, new ImportError(number, $"{FieldNames[(int)columns[i]]}: duplicate column"));
        }
        if (!columns.Contains(Column.TotalAmount))
            return new CsvHeader(null, new ImportError(number, $"{FieldNames[(int)Column.TotalAmount]}: column is required"));
        return new CsvHeader(columns, null);
    }

    private static bool TryParseCsv(
        ReadOnlySpan<char> line, Column[] columns, List<CsvField> fields, out OrderInput? order, out string? reason)
    {
        order = null;
        if (!TrySplitCsv(line, fields, out var badCell, out var problem))
        {
            reason = $"{ColumnName(columns, badCell)}: {problem}";
            return false;
        }
        if (fields.Count != columns.Length)
        {
            reason = $"expected {columns.Length} fields, found {fields.Count}";
            return false;
        }

        string? name = null, phone = null, email = null, city = null, address = null;
        decimal? amount = null;
        OrderStatus? status = null;
        DateTimeOffset? createdAt = null;
        for (var i = 0; i < columns.Length; i++)
        {
            var column = columns[i];
            // Typed cells ignore surrounding spaces; text cells are stored as sent.
            var typed = line.Slice(fields[i].Start, fields[i].Length).Trim(' ');
            var ok = true;
            switch (column)
            {
                case Column.CustomerName: name = CellText(line, fields[i]); break;
                case Column.CustomerPhone: phone = CellText(line, fields[i]); break;
                case Column.CustomerEmail: email = CellText(line, fields[i]); break;
                case Column.DeliveryCity: city = CellText(line, fields[i]); break;
                case Column.DeliveryAddress: address = CellText(line, fields[i]); break;
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
        reason = null;
        return true;
    }

    private static bool TryParseAmount(ReadOnlySpan<char> text, out decimal? amount)
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
    private static bool TryParseDate(ReadOnlySpan<char> text, out DateTimeOffset? date)
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
    private static string? CellText(ReadOnlySpan<char> line, CsvField field)
    {
        var raw = line.Slice(field.Start, field.Length);
        if (raw.IsEmpty)
            return null;
        return field.Escaped ? raw.ToString().Replace("\"\"", "\"") : raw.ToString();
    }

    // RFC 4180 within one physical line; spaces around a quoted cell are tolerated, since
    // hand-written files put `a, "b, c"` as often as `a,"b, c"`. False with the index of the
    // cell that is broken and what is wrong with it.
    private static bool TrySplitCsv(ReadOnlySpan<char> line, List<CsvField> fields, out int badCell, out string? problem)
    {
        fields.Clear();
        badCell = -1;
        problem = null;
        var i = 0;
        while (true)
        {
            var quote = i;
            while (quote < line.Length && line[quote] == ' ')
                quote++;
            if (quote < line.Length && line[quote] == '"')
            {
                var start = quote + 1;
                var end = start;
                var escaped = false;
                while (true)
                {
                    var next = line[end..].IndexOf('"');
                    if (next < 0)
                    {
                        badCell = fields.Count;
                        problem = "unterminated quote";
                        return false;
                    }
                    end += next;
                    if (end + 1 < line.Length && line[end + 1] == '"')
                    {
                        escaped = true;
                        end += 2;
                        continue;
                    }
                    break;
                }
                fields.Add(new CsvField(start, end - start, escaped));
                var after = end + 1;
                while (after < line.Length && line[after] == ' ')
                    after++;
                if (after == line.Length)
                    return true;
                if (line[after] != ',')
                {
                    badCell = fields.Count - 1;
                    problem = "text after the closing quote";
                    return false;
                }
                i = after + 1;
            }
            else
            {
                var comma = line[i..].IndexOf(',');
                if (comma < 0)
                {
                    fields.Add(new CsvField(i, line.Length - i, false));
                    return true;
                }
                fields.Add(new CsvField(i, comma, false));
                i += comma + 1;
            }
        }
    }

    // ---- Lines ----

    // Physical lines of UTF-8 text ("\n" or "\r\n"). Holds one block and at most one line:
    // past MaxLineLength the rest of a line is skipped, never stored.
    private sealed class LineReader(Stream body) : IDisposable
    {
        // Strict: text in another encoding fails the import instead of landing as U+FFFD.
        // The BOM-emitting flavour makes StreamReader skip a leading BOM (Excel writes one).
        private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: true, throwOnInvalidBytes: true);

        private readonly StreamReader _reader = new(body, StrictUtf8, detectEncodingFromByteOrderMarks: false, bufferSize: 1 << 16, leaveOpen: true);
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
}
