using System.Text;

namespace Crm.Jobs.Orders;

// An import body's text. Strict: text in another encoding fails the import instead of
// landing as U+FFFD. The BOM-emitting flavour makes StreamReader skip a leading BOM (Excel
// writes one).
internal static class StrictUtf8
{
    private static readonly UTF8Encoding Encoding = new(encoderShouldEmitUTF8Identifier: true, throwOnInvalidBytes: true);

    public static StreamReader Reader(Stream body) =>
        new(body, Encoding, detectEncodingFromByteOrderMarks: false, bufferSize: 1 << 16, leaveOpen: true);

    // The next block of text; bytes that are not UTF-8 fail with the line they are near.
    public static async ValueTask<int> ReadBlockAsync(StreamReader reader, char[] block, long line, CancellationToken ct)
    {
        try
        {
            return await reader.ReadAsync(block, ct);
        }
        catch (DecoderFallbackException e)
        {
            throw new InvalidDataException($"The body is not valid UTF-8 (near line {line}).", e);
        }
    }
}
