using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Crm.Bench;

// A request body of NDJSON orders written while it is sent (chunked transfer encoding), so a
// million-order import never sits in the client's memory.
public sealed class NdjsonContent : HttpContent
{
    private const int FlushBytes = 64 * 1024;

    // Cyrillic as UTF-8, the way a shop's export would send it, not as \u escapes.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly IEnumerable<GeneratedOrder> _orders;

    public NdjsonContent(IEnumerable<GeneratedOrder> orders)
    {
        _orders = orders;
        Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
    }

    public long BytesWritten { get; private set; }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        WriteAsync(stream, CancellationToken.None);

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
        WriteAsync(stream, cancellationToken);

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }

    public async Task WriteAsync(Stream stream, CancellationToken ct)
    {
        var buffer = new ArrayBufferWriter<byte>(2 * FlushBytes);
        using var json = new Utf8JsonWriter(buffer, WriterOptions);
        foreach (var order in _orders)
        {
            json.Reset(buffer);
            WriteOrder(json, order);
            json.Flush();
            buffer.GetSpan(1)[0] = (byte)'\n';
            buffer.Advance(1);
            if (buffer.WrittenCount >= FlushBytes)
            {
                await stream.WriteAsync(buffer.WrittenMemory, ct);
                BytesWritten += buffer.WrittenCount;
                buffer.ResetWrittenCount();
            }
        }
        await stream.WriteAsync(buffer.WrittenMemory, ct);
        BytesWritten += buffer.WrittenCount;
    }

    // The fields of POST /api/orders, camelCase.
    private static void WriteOrder(Utf8JsonWriter json, in GeneratedOrder order)
    {
        json.WriteStartObject();
        json.WriteString("customerName", order.Name);
        json.WriteString("customerPhone", order.Phone);
        json.WriteString("customerEmail", order.Email);
        json.WriteString("deliveryCity", order.City);
        json.WriteString("deliveryAddress", order.Address);
        json.WriteNumber("totalAmount", order.Amount);
        json.WriteString("status", order.Status);
        json.WriteString("createdAt", order.CreatedAt);
        json.WriteEndObject();
    }
}
