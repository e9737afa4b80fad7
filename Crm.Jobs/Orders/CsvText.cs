using System.Buffers;

namespace Crm.Jobs.Orders;

// The body's text as Sep reads it, with every CSV record (RFC 4180: a line break inside
// quotes does not end one) cut at OrderImporter.MaxLineLength characters, so Sep never
// buffers more than one bounded record. A cut record reaches Sep as its first MaxLineLength
// characters, a closing quote if one is open, and a line break; the rest of it is
// skipped. Sep numbers the lines of what it reads, so after a cut its numbers differ from
// the body's: WasCut and PhysicalLine translate them. Tracks quotes as Sep does (a quote
// toggles, a line break outside quotes ends the record), so both agree on every record.
internal sealed class CsvText(Stream body) : TextReader
{
    private static readonly SearchValues<char> Special = SearchValues.Create("\"\r\n");

    private readonly StreamReader _reader = StrictUtf8.Reader(body);
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
                _end = await StrictUtf8.ReadBlockAsync(_reader, _block, _bodyLine, ct);
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
                var allowed = Math.Min(plain, OrderImporter.MaxLineLength - _recordLength);
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
            if (isContent && _recordLength == OrderImporter.MaxLineLength)
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

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            _reader.Dispose();
        base.Dispose(disposing);
    }
}
