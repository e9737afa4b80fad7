using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Crm.Bench;

public enum ImportBodyFormat
{
    Ndjson,
    Csv,
}

// A request body of orders written while it is sent (chunked transfer encoding), so a
// ten-million-order import never sits in the client's memory.
public abstract class OrdersContent : HttpContent
{
    private const int FlushBytes = 64 * 1024;

    private readonly IEnumerable<GeneratedOrder> _orders;

    protected OrdersContent(IEnumerable<GeneratedOrder> orders, string mediaType)
    {
        _orders = orders;
        Headers.ContentType = new MediaTypeHeaderValue(mediaType);
    }

    public static OrdersContent Create(ImportBodyFormat format, IEnumerable<GeneratedOrder> orders) => format switch
    {
        ImportBodyFormat.Csv => new CsvContent(orders),
        _ => new NdjsonContent(orders),
    };

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
        WriteStart(buffer);
        foreach (var order in _orders)
        {
            WriteOrder(buffer, order);
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

    protected virtual void WriteStart(ArrayBufferWriter<byte> buffer)
    {
    }

    protected abstract void WriteOrder(ArrayBufferWriter<byte> buffer, in GeneratedOrder order);
}

// One JSON object per line with the fields of POST /api/orders, camelCase.
public sealed class NdjsonContent(IEnumerable<GeneratedOrder> orders) : OrdersContent(orders, "application/x-ndjson")
{
    // Cyrillic as UTF-8, the way a shop's export would send it, not as \u escapes.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private Utf8JsonWriter? _json;

    protected override void WriteOrder(ArrayBufferWriter<byte> buffer, in GeneratedOrder order)
    {
        if (_json is null)
            _json = new Utf8JsonWriter(buffer, WriterOptions);
        else
            _json.Reset(buffer);
        var json = _json;
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
        json.Flush();
        buffer.GetSpan(1)[0] = (byte)'\n';
        buffer.Advance(1);
    }
}

// RFC 4180 as a spreadsheet exports it: a snake_case header row, CRLF line ends, a field
// quoted only when it holds a comma, a quote or a line break (every address does: "ул.
// Ленина, д. 5, кв. 12"), quotes doubled. The same orders as the NDJSON, field for field.
public sealed class CsvContent(IEnumerable<GeneratedOrder> orders) : OrdersContent(orders, "text/csv")
{
    public const string Header =
        "customer_name,customer_phone,customer_email,delivery_city,delivery_address,total_amount,status,created_at";

    private readonly StringBuilder _line = new(256);

    protected override void WriteStart(ArrayBufferWriter<byte> buffer) => Append(buffer, Header + "\r\n");

    protected override void WriteOrder(ArrayBufferWriter<byte> buffer, in GeneratedOrder order)
    {
        var line = _line.Clear();
        Field(line, order.Name).Append(',');
        Field(line, order.Phone).Append(',');
        Field(line, order.Email).Append(',');
        Field(line, order.City).Append(',');
        Field(line, order.Address).Append(',');
        line.Append(order.Amount.ToString(CultureInfo.InvariantCulture)).Append(',');
        line.Append(order.Status).Append(',');
        line.Append(order.CreatedAt.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)).Append("\r\n");
        foreach (var chunk in line.GetChunks())
            Append(buffer, chunk.Span);
    }

    private static StringBuilder Field(StringBuilder line, string value)
    {
        if (value.AsSpan().IndexOfAny(",\"\r\n") < 0)
            return line.Append(value);
        return line.Append('"').Append(value.Replace("\"", "\"\"")).Append('"');
    }

    private static void Append(ArrayBufferWriter<byte> buffer, ReadOnlySpan<char> text)
    {
        var bytes = Encoding.UTF8.GetBytes(text, buffer.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length)));
        buffer.Advance(bytes);
    }
}
