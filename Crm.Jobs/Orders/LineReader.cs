namespace Crm.Jobs.Orders;

// Physical lines of UTF-8 text ("\n" or "\r\n"). Holds one block and at most one line:
// past OrderImporter.MaxLineLength the rest of a line is skipped, never stored.
internal sealed class LineReader(Stream body) : IDisposable
{
    private readonly StreamReader _reader = StrictUtf8.Reader(body);
    private readonly char[] _block = new char[1 << 16];
    private readonly char[] _carry = new char[OrderImporter.MaxLineLength + 1]; // the line plus the '\r' of "\r\n"
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
                _end = await StrictUtf8.ReadBlockAsync(_reader, _block, Number + 1, ct);
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
        IsTooLong = tooLong || line.Length > OrderImporter.MaxLineLength;
        Text = IsTooLong ? ReadOnlyMemory<char>.Empty : line;
        return true;
    }

    public void Dispose() => _reader.Dispose();
}
