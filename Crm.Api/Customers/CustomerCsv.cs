using System.Buffers;
using System.Globalization;
using System.Text;
using Crm.Jobs.Customers;
using Crm.Jobs.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;
using nietras.SeparatedValues;

namespace Crm.Api.Customers;

// A segment of customers as a spreadsheet file (docs/API.md "Customers as CSV"): RFC 4180
// (comma, CRLF, quotes where a value needs them, Sep's escaping), UTF-8 with a byte order
// mark so a spreadsheet keeps Cyrillic, the columns of CustomerResponse. Rows go out as the
// database returns them: nothing holds the whole segment, at any size.
public static class CustomerCsv
{
    public const string MediaType = "text/csv";

    private static readonly UTF8Encoding Utf8WithBom = new(encoderShouldEmitUTF8Identifier: true);

    // A value a spreadsheet would run as a formula starts with one of these (OWASP, "CSV
    // injection"); names and addresses come from shop orders, so such a value gets a leading
    // apostrophe, which spreadsheets show as text.
    private static readonly SearchValues<char> FormulaStarts = SearchValues.Create("=+-@\t\r");

    // CSV when the caller asks for it: text/csv accepted, and not less than application/json.
    public static bool IsAccepted(HttpRequest request)
    {
        var accept = request.GetTypedHeaders().Accept;
        double Quality(string type) => accept
            .Where(a => a.MediaType.Equals(type, StringComparison.OrdinalIgnoreCase))
            .Select(a => a.Quality ?? 1.0)
            .DefaultIfEmpty(0.0)
            .Max();
        var csv = Quality(MediaType);
        return csv > 0 && csv >= Quality("application/json");
    }

    // customers: already filtered and ordered; each row is read, written and forgotten.
    public static async Task WriteAsync(HttpResponse response, IQueryable<Customer> customers, string fileName, CancellationToken ct)
    {
        response.ContentType = $"{MediaType}; charset=utf-8";
        response.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileNameStar = fileName, FileName = fileName }.ToString();

        // The response body accepts asynchronous writes only: every write below is awaited.
        await using var text = new StreamWriter(response.Body, Utf8WithBom, bufferSize: 64 * 1024, leaveOpen: true) { NewLine = "\r\n" };
        await using (var csv = Sep.New(',').Writer(o => o with { Escape = true, CultureInfo = CultureInfo.InvariantCulture }).To(text, leaveOpen: true))
        {
            // The header names the columns even when the segment is empty.
            csv.Header.Add(Columns);
            await csv.Header.WriteAsync(ct);
            await foreach (var c in customers.Select(CustomerResponse.Projection).AsAsyncEnumerable().WithCancellation(ct))
            {
                await using var row = csv.NewRow(ct);
                row["id"].Format(c.Id);
                row["name"].Set(Text(c.Name));
                row["phone"].Set(c.Phone);
                row["email"].Set(Text(c.Email));
                row["city"].Set(Text(c.City));
                row["address"].Set(Text(c.Address));
                row["notes"].Set(Text(c.Notes));
                row["category"].Set(EnumText.ToText(c.Category));
                row["totalOrders"].Format(c.TotalOrders);
                row["totalSpent"].Format(c.TotalSpent);
                row["averageOrder"].Format(c.AverageOrder);
                row["lastOrderDate"].Set(Time(c.LastOrderDate));
                row["createdAt"].Set(Time(c.CreatedAt));
                row["updatedAt"].Set(Time(c.UpdatedAt));
            }
        }
        await text.FlushAsync(ct);
    }

    private static readonly string[] Columns =
    [
        "id", "name", "phone", "email", "city", "address", "notes", "category",
        "totalOrders", "totalSpent", "averageOrder", "lastOrderDate", "createdAt", "updatedAt",
    ];

    private static string Text(string value) =>
        value.Length > 0 && FormulaStarts.Contains(value[0]) ? "'" + value : value;

    // ISO 8601 in UTC, as the JSON answers write times.
    private static string Time(DateTime? at) =>
        at is { } utc ? DateTime.SpecifyKind(utc, DateTimeKind.Utc).ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture) : "";
}
