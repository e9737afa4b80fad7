// Over 400 lines: every importer behaviour against one shared database (one class fixture).
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Crm.Jobs.Orders;
using Crm.Jobs.Phones;
using Crm.Tests.Infrastructure;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace Crm.Tests.Orders;

// Tests of one class share a database, so each one marks its orders with a city of its own
// and counts only those.
public class OrderImporterTests(OrderImporterDatabase db, ITestOutputHelper output) : IClassFixture<OrderImporterDatabase>
{
    private const string CsvHeader = "totalAmount,status,createdAt,deliveryCity,customerName";

    private DateTime Now => db.Clock.GetUtcNow().UtcDateTime;

    private static string NewCity() => $"city-{Guid.NewGuid():N}";

    private static string Json(object order) => JsonSerializer.Serialize(order);

    private static MemoryStream Body(string text) => new(Encoding.UTF8.GetBytes(text));

    private static MemoryStream Lines(params string[] lines) => Body(string.Join("\n", lines) + "\n");

    private Task<ImportResult> ImportAsync(Stream body, ImportFormat format = ImportFormat.Ndjson) =>
        db.Importer.ImportAsync(body, format, CancellationToken.None);

    private async Task<long> CountAsync(string city)
    {
        await using var command = db.DataSource.CreateCommand("SELECT count(*) FROM orders WHERE delivery_city = @city");
        command.Parameters.AddWithValue("city", city);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private sealed record StoredOrder(
        string CustomerName, string CustomerPhone, string? NormalizedPhone, string CustomerEmail,
        string DeliveryAddress, decimal TotalAmount, string Status, DateTime CreatedAt, DateTime UpdatedAt);

    private async Task<List<StoredOrder>> OrdersAsync(string city)
    {
        await using var command = db.DataSource.CreateCommand("""
            SELECT customer_name, customer_phone, normalized_phone, customer_email, delivery_address,
                   total_amount, status, created_at, updated_at
            FROM orders WHERE delivery_city = @city ORDER BY id
            """);
        command.Parameters.AddWithValue("city", city);
        await using var reader = await command.ExecuteReaderAsync();
        var orders = new List<StoredOrder>();
        while (await reader.ReadAsync())
        {
            orders.Add(new StoredOrder(
                reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.GetString(3), reader.GetString(4), reader.GetDecimal(5), reader.GetString(6),
                reader.GetDateTime(7), reader.GetDateTime(8)));
        }
        return orders;
    }

    private async Task<long?> SyncRequestVersionAsync(string phone)
    {
        await using var command = db.DataSource.CreateCommand("SELECT version FROM customer_sync_requests WHERE phone = @phone");
        command.Parameters.AddWithValue("phone", phone);
        return (long?)await command.ExecuteScalarAsync();
    }

    private async Task<long> SyncRequestCountAsync()
    {
        await using var command = db.DataSource.CreateCommand("SELECT count(*) FROM customer_sync_requests");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task NdjsonLinesLandWithTheExactColumnValues()
    {
        var city = NewCity();
        var phone = TestPhones.NewSpelledWith8();
        var body = Body(string.Join("\n",
            Json(new
            {
                customerName = "Анна Смирнова",
                customerPhone = phone.Raw,
                customerEmail = "anna@example.com",
                deliveryCity = city,
                deliveryAddress = "ул. Баумана, 1\nкв. 5",
                totalAmount = 1234.50m,
                status = "completed",
                createdAt = "2026-11-20T08:30:00+03:00",
            }),
            // The last line has no line break.
            Json(new { deliveryCity = city, totalAmount = 10 })));

        var result = await ImportAsync(body);

        Assert.Equal(new ImportResult(2, 0, 0, result.Errors, 1), result);
        Assert.Empty(result.Errors);
        var orders = await OrdersAsync(city);
        Assert.Equal(
            new StoredOrder("Анна Смирнова", phone.Raw, phone.E164, "anna@example.com", "ул. Баумана, 1\nкв. 5",
                1234.50m, "completed", new DateTime(2026, 11, 20, 5, 30, 0, DateTimeKind.Utc), Now),
            orders[0]);
        Assert.Equal(new StoredOrder("", "", null, "", "", 10m, "new", Now, Now), orders[1]);
    }

    [Fact]
    public async Task CsvWithQuotedCommasAndDoubledQuotesLands()
    {
        var city = NewCity();
        var phone = TestPhones.NewSpelledWith8();
        var body = Lines(
            "CustomerName,customerPhone,DELIVERYCITY,deliveryAddress,totalAmount,status,createdAt,customerEmail",
            $"\"Petrov, Ivan\",{phone.Raw},{city},\"ул. \"\"Ленина\"\", 5\",1234.50,processing,2026-11-20T08:30:00Z,ivan@example.com",
            // Spaces around a quoted cell are tolerated; unquoted text is kept as sent.
            $" Anna , \"{phone.Raw}\" ,{city}, \"\" ,  7 ,,,");

        var result = await ImportAsync(body, ImportFormat.Csv);

        Assert.Equal(new ImportResult(2, 0, 0, result.Errors, 1), result);
        var orders = await OrdersAsync(city);
        Assert.Equal(
            new StoredOrder("Petrov, Ivan", phone.Raw, phone.E164, "ivan@example.com", "ул. \"Ленина\", 5",
                1234.50m, "processing", new DateTime(2026, 11, 20, 8, 30, 0, DateTimeKind.Utc), Now),
            orders[0]);
        Assert.Equal(new StoredOrder(" Anna ", phone.Raw, phone.E164, "", "", 7m, "new", Now, Now), orders[1]);
    }

    [Fact]
    public async Task CsvAcceptsSnakeCaseHeaderCrlfAndMissingOptionalColumns()
    {
        var city = NewCity();
        var body = Body($"customer_name,total_amount,Delivery_City\r\nIvan,10.5,{city}\r\nAnna,20,{city}\r\n");

        var result = await ImportAsync(body, ImportFormat.Csv);

        Assert.Equal(new ImportResult(2, 0, 0, result.Errors, 0), result);
        var orders = await OrdersAsync(city);
        Assert.Equal(["Ivan", "Anna"], orders.Select(o => o.CustomerName));
        Assert.Equal([10.5m, 20m], orders.Select(o => o.TotalAmount));
    }

    [Fact]
    public async Task CsvHeaderMayFollowAUtf8ByteOrderMark()
    {
        var city = NewCity();
        var body = new MemoryStream([.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes($"totalAmount,deliveryCity\n5,{city}\n")]);

        var result = await ImportAsync(body, ImportFormat.Csv);

        Assert.Equal(1, result.Imported);
        Assert.Equal(1, await CountAsync(city));
    }

    [Fact]
    public async Task SpreadsheetExportImportsExactly()
    {
        var city = NewCity();
        var anna = TestPhones.NewSpelledWith8();
        var ivan = TestPhones.NewSpelledWith8();
        // As a spreadsheet saves "CSV UTF-8": a BOM, CRLF, every column named, quotes only
        // where a cell needs them, and line breaks typed into a cell kept inside its quotes.
        var text = string.Concat(
            "customerName,customerPhone,customerEmail,deliveryCity,deliveryAddress,totalAmount,status,createdAt\r\n",
            $"\"Смирнова, Анна\",{anna.Raw},anna@example.com,{city},\"ул. \"\"Ленина\"\", 5\nкв. 12\r\nдомофон 12\",1234.50,completed,2026-11-20T08:30:00Z\r\n",
            $"Иван Петров,\"{ivan.Raw}\",,{city},\"\"\"Сад\"\"\",10,new,\r\n",
            $"\"Анна \"\"Мастер\"\"\",{anna.Raw},,{city},\"\n\",7,,\r\n");
        var body = new MemoryStream([.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes(text)]);

        var result = await ImportAsync(body, ImportFormat.Csv);

        Assert.Equal(new ImportResult(3, 0, 0, result.Errors, 2), result);
        Assert.Equal(
            [
                new StoredOrder("Смирнова, Анна", anna.Raw, anna.E164, "anna@example.com", "ул. \"Ленина\", 5\nкв. 12\r\nдомофон 12",
                    1234.50m, "completed", new DateTime(2026, 11, 20, 8, 30, 0, DateTimeKind.Utc), Now),
                new StoredOrder("Иван Петров", ivan.Raw, ivan.E164, "", "\"Сад\"", 10m, "new", Now, Now),
                new StoredOrder("Анна \"Мастер\"", anna.Raw, anna.E164, "", "\n", 7m, "new", Now, Now),
            ],
            await OrdersAsync(city));
    }

    [Fact]
    public async Task BadCsvRecordsAfterMultiLineOnesReportThePhysicalLineTheyStartOn()
    {
        var city = NewCity();
        var body = Body(string.Join("\r\n",
            "deliveryCity,deliveryAddress,totalAmount", // line 1
            $"{city},\"one\r\ntwo\r\nthree\",1", // lines 2-4
            $"{city},plain,abc", // line 5
            $"{city},\"a\nb\",-1", // lines 6-7: LF inside a CRLF file
            "", // line 8
            $"{city},\"x\",2,extra", // line 9
            $"{city},\"\r\n\r\n\",3", // lines 10-12
            $"{city},last,ten") + "\r\n"); // line 13

        var result = await ImportAsync(body, ImportFormat.Csv);

        Assert.Equal(2, result.Imported);
        Assert.Equal([5L, 6L, 9L, 13L], result.Errors.Select(e => e.Line));
        Assert.Equal("totalAmount: must be a number like 1234.50", result.Errors[0].Reason);
        Assert.StartsWith("totalAmount: ", result.Errors[1].Reason);
        Assert.Equal("expected 3 fields, found 4", result.Errors[2].Reason);
        Assert.Equal("totalAmount: must be a number like 1234.50", result.Errors[3].Reason);
        Assert.Equal(["one\r\ntwo\r\nthree", "\r\n\r\n"], (await OrdersAsync(city)).Select(o => o.DeliveryAddress));
    }

    [Theory]
    [InlineData("")]
    [InlineData("\r\n")]
    [InlineData("\r\nmore text\r\n1,2,3\r\n")]
    public async Task UnterminatedQuoteAtTheEndIsReportedWithTheLineItStartsOn(string rest)
    {
        var city = NewCity();
        var body = Body(string.Join("\r\n",
            "deliveryCity,deliveryAddress,totalAmount",
            $"{city},\"ул. Ленина, 5\r\nкв. 7\",1",
            $"{city},\"ул. Мира,2") + rest);

        var result = await ImportAsync(body, ImportFormat.Csv);

        Assert.Equal(new ImportResult(1, 1, 0, result.Errors, 0), result);
        Assert.Equal(new ImportError(4, "deliveryAddress: unterminated quote"), Assert.Single(result.Errors));
        Assert.Equal(["ул. Ленина, 5\r\nкв. 7"], (await OrdersAsync(city)).Select(o => o.DeliveryAddress));
    }

    [Fact]
    public async Task UnterminatedQuoteInTheMiddleTakesTheRestOfTheBodyIntoItsRecord()
    {
        var city = NewCity();
        var good = $"1,new,2026-11-24,{city},Ivan";

        // RFC 4180: until a quote closes it, every comma and line break is the cell's text.
        var result = await ImportAsync(Lines(CsvHeader, good, $"10,new,,{city},\"Ivan", good, good), ImportFormat.Csv);

        Assert.Equal(new ImportResult(1, 1, 0, result.Errors, 0), result);
        Assert.Equal(new ImportError(3, "customerName: unterminated quote"), Assert.Single(result.Errors));
        Assert.Equal(1, await CountAsync(city));
    }

    [Fact]
    public async Task OverLongCsvRecordsAreRejectedAndLaterRecordsKeepTheirLines()
    {
        var city = NewCity();
        var body = Body(string.Join("\r\n",
            "deliveryCity,deliveryAddress,totalAmount", // line 1
                                                        // Cut inside its quotes; the dropped rest holds line breaks, "" and the closing quote.
            $"{city},\"{new string('x', 70_000)}\r\nline 3, \"\"quoted\"\"\r\nline 4\",1", // lines 2-4
            $"{city},ok,abc", // line 5
            $"{city},ok,1", // line 6
            $"{city},{new string('y', 70_000)},1", // line 7: cut outside quotes
            $"{city},\"a\nb\",abc", // lines 8-9
            $"{city},ok,2", // line 10
            $"{city},\"{new string('z', 200_000)}") + "\r\nline 12\r\n"); // lines 11-12: cut, unterminated

        var result = await ImportAsync(body, ImportFormat.Csv);

        Assert.Equal(
            [
                new ImportError(2, "record is longer than 65536 characters"),
                new ImportError(5, "totalAmount: must be a number like 1234.50"),
                new ImportError(7, "record is longer than 65536 characters"),
                new ImportError(8, "totalAmount: must be a number like 1234.50"),
                new ImportError(11, "record is longer than 65536 characters"),
            ],
            result.Errors);
        Assert.Equal(2, result.Imported);
        Assert.Equal([1m, 2m], (await OrdersAsync(city)).Select(o => o.TotalAmount));
    }

    [Theory]
    [InlineData("\n", 0, true)]
    [InlineData("\r\n", 0, true)]
    [InlineData("\n", 1, false)]
    [InlineData("\r\n", 1, false)]
    public async Task CsvRecordLengthLimitCountsCharactersWithoutTheLineBreak(string lineBreak, int extra, bool accepted)
    {
        var city = NewCity();
        var row = $"{city},\"a{lineBreak}b\",1";
        // Typed cells ignore surrounding spaces, so a valid record can be padded to any length.
        var padded = row.PadRight(OrderImporter.MaxLineLength + extra);

        var result = await ImportAsync(Body($"deliveryCity,deliveryAddress,totalAmount{lineBreak}{padded}{lineBreak}{row}{lineBreak}"), ImportFormat.Csv);

        Assert.Equal(accepted ? 2 : 1, result.Imported);
        Assert.Equal(accepted ? [] : [new ImportError(2, "record is longer than 65536 characters")], result.Errors);
        Assert.Equal(accepted ? 2 : 1, await CountAsync(city));
    }

    [Fact]
    public async Task BlankLinesAreSkippedAndErrorsKeepPhysicalLineNumbers()
    {
        var city = NewCity();
        var good = Json(new { deliveryCity = city, totalAmount = 1 });
        var bad = Json(new { deliveryCity = city, totalAmount = -1 });

        var result = await ImportAsync(Body($"\n{good}\n   \n\r\n{bad}\r\n{good}\n\n"));

        Assert.Equal(2, result.Imported);
        Assert.Equal(1, result.Rejected);
        Assert.Equal(5, Assert.Single(result.Errors).Line);
        Assert.Equal(2, await CountAsync(city));
    }

    [Fact]
    public async Task CsvLineNumbersCountTheHeaderAndBlankLines()
    {
        var city = NewCity();

        var result = await ImportAsync(Lines("", CsvHeader, "", $"abc,new,,{city},Ivan", $"1,new,,{city},Ivan"), ImportFormat.Csv);

        Assert.Equal(new ImportError(4, "totalAmount: must be a number like 1234.50"), Assert.Single(result.Errors));
        Assert.Equal(1, await CountAsync(city));
    }

    [Theory]
    [InlineData("""{"totalAmount": 10, "deliveryCity": "CITY" """, "invalid JSON")]
    [InlineData("""{"totalAmount": 10, "deliveryCity": "CITY", "discount": 5}""", "discount: unknown field")]
    [InlineData("""{"totalAmount": 10, "deliveryCity": "CITY", "id": 5}""", "id: unknown field")]
    [InlineData("""{"totalAmount": -1, "deliveryCity": "CITY"}""", "totalAmount: ")]
    [InlineData("""{"totalAmount": 1.005, "deliveryCity": "CITY"}""", "totalAmount: ")]
    [InlineData("""{"totalAmount": 10000000000, "deliveryCity": "CITY"}""", "totalAmount: ")]
    [InlineData("""{"totalAmount": "abc", "deliveryCity": "CITY"}""", "totalAmount: must be a number")]
    [InlineData("""{"deliveryCity": "CITY"}""", "totalAmount: Total amount is required.")]
    [InlineData("""{"totalAmount": 1, "status": "shipped", "deliveryCity": "CITY"}""", "status: must be one of new, processing, completed, cancelled")]
    [InlineData("""{"totalAmount": 1, "createdAt": "2026-12-01T00:00:00Z", "deliveryCity": "CITY"}""", "createdAt: 'Created At' must not be in the future.")]
    [InlineData("""{"totalAmount": 1, "createdAt": "yesterday", "deliveryCity": "CITY"}""", "createdAt: must be an ISO 8601 date")]
    [InlineData("""{"totalAmount": 1, "customerName": 5, "deliveryCity": "CITY"}""", "customerName: must be text")]
    [InlineData("""{"totalAmount": 1, "customerName": "a\u0007b", "deliveryCity": "CITY"}""", "customerName: ")]
    [InlineData("""[1, 2]""", "line is not a JSON object")]
    [InlineData("""null""", "line is not a JSON object")]
    public async Task BadNdjsonLineIsReportedWithItsFieldAndSkipped(string badLine, string reasonStart)
    {
        var city = NewCity();
        var good = Json(new { deliveryCity = city, totalAmount = 1 });

        var result = await ImportAsync(Lines(good, badLine.Replace("CITY", city), good));

        Assert.Equal(2, result.Imported);
        Assert.Equal(1, result.Rejected);
        var error = Assert.Single(result.Errors);
        Assert.Equal(2, error.Line);
        Assert.StartsWith(reasonStart, error.Reason);
        Assert.DoesNotContain("System.", error.Reason);
        Assert.Equal(2, await CountAsync(city));
    }

    [Theory]
    [InlineData("10,new,,CITY", "expected 5 fields, found 4")]
    [InlineData("10,new,,CITY,Ivan,extra", "expected 5 fields, found 6")]
    [InlineData("1,234.50,new,,CITY,Ivan", "expected 5 fields, found 6")]
    [InlineData("10,new,,CITY,\"Iv\"an", "customerName: text after the closing quote")]
    [InlineData("10,new,,CITY,\"Iv\"\"an\" x", "customerName: text after the closing quote")]
    [InlineData("10,\"new\"x,,CITY,Ivan", "status: text after the closing quote")]
    [InlineData("ten,new,,CITY,Ivan", "totalAmount: must be a number like 1234.50")]
    [InlineData("\"1,234.50\",new,,CITY,Ivan", "totalAmount: must be a number like 1234.50")]
    [InlineData("1.005,new,,CITY,Ivan", "totalAmount: ")]
    [InlineData("-5,new,,CITY,Ivan", "totalAmount: ")]
    [InlineData(",new,,CITY,Ivan", "totalAmount: Total amount is required.")]
    [InlineData("10,shipped,,CITY,Ivan", "status: must be one of new, processing, completed, cancelled")]
    [InlineData("10,New,,CITY,Ivan", "status: must be one of")]
    [InlineData("10,new,25.11.2026,CITY,Ivan", "createdAt: must be an ISO 8601 date")]
    [InlineData("10,new,11/25/2026,CITY,Ivan", "createdAt: must be an ISO 8601 date")]
    [InlineData("10,new,2026-12-01T00:00:00Z,CITY,Ivan", "createdAt: 'Created At' must not be in the future.")]
    public async Task BadCsvRowIsReportedWithItsFieldAndSkipped(string badRow, string reasonStart)
    {
        var city = NewCity();
        var good = $"1,new,2026-11-24,{city},Ivan";

        var result = await ImportAsync(Lines(CsvHeader, good, badRow.Replace("CITY", city), good), ImportFormat.Csv);

        Assert.Equal(2, result.Imported);
        Assert.Equal(1, result.Rejected);
        var error = Assert.Single(result.Errors);
        Assert.Equal(3, error.Line);
        Assert.StartsWith(reasonStart, error.Reason);
        Assert.Equal(2, await CountAsync(city));
    }

    [Fact]
    public async Task EveryBadLineIsCountedButOnlyTheFirstHundredAreReported()
    {
        var city = NewCity();
        var bad = Json(new { deliveryCity = city, totalAmount = -1 });
        var lines = Enumerable.Repeat(bad, 150).Append(Json(new { deliveryCity = city, totalAmount = 1 })).ToArray();

        var result = await ImportAsync(Lines(lines));

        Assert.Equal(1, result.Imported);
        Assert.Equal(150, result.Rejected);
        Assert.Equal(OrderImporter.MaxReportedErrors, result.Errors.Count);
        Assert.Equal(Enumerable.Range(1, 100).Select(n => (long)n), result.Errors.Select(e => e.Line));
        Assert.Equal(1, await CountAsync(city));
    }

    [Fact]
    public async Task OverLongLineIsRejectedAndTheNextLineStillImports()
    {
        var city = NewCity();
        var good = Json(new { deliveryCity = city, totalAmount = 1 });

        var result = await ImportAsync(Lines(good, new string('x', 100_000), good, new string('y', 200_000)));

        Assert.Equal(2, result.Imported);
        Assert.Equal(
            [new ImportError(2, "line is longer than 65536 characters"), new ImportError(4, "line is longer than 65536 characters")],
            result.Errors);
        Assert.Equal(2, await CountAsync(city));
    }

    [Theory]
    [InlineData("\n", 0, true)]
    [InlineData("\r\n", 0, true)]
    [InlineData("\n", 1, false)]
    [InlineData("\r\n", 1, false)]
    public async Task LineLengthLimitCountsCharactersWithoutTheLineBreak(string lineBreak, int extra, bool accepted)
    {
        var city = NewCity();
        var json = Json(new { deliveryCity = city, totalAmount = 1 });
        // JSON allows trailing spaces, so a valid line can be padded to any length.
        var line = json.PadRight(OrderImporter.MaxLineLength + extra);

        var result = await ImportAsync(Body(line + lineBreak + json + lineBreak));

        Assert.Equal(accepted ? 2 : 1, result.Imported);
        Assert.Equal(accepted ? 2 : 1, await CountAsync(city));
    }

    [Theory]
    [InlineData("totalAmount,deliveryCity,discount", "discount: unknown column")]
    [InlineData("deliveryCity,customerName", "totalAmount: column is required")]
    [InlineData("totalAmount,deliveryCity,total_amount", "totalAmount: duplicate column")]
    [InlineData("totalAmount,deliveryCity,", "column 3 has no name")]
    [InlineData("totalAmount,\"deliveryCity", "column 2: unterminated quote")]
    [InlineData("totalAmount,\"delivery\"City", "column 2: text after the closing quote")]
    public async Task BadCsvHeaderWritesNothing(string header, string reason)
    {
        var city = NewCity();

        var result = await ImportAsync(Lines(header, $"1,{city},x", $"2,{city},y"), ImportFormat.Csv);

        Assert.Equal(new ImportResult(0, 0, 0, result.Errors, 0), result);
        Assert.Equal(new ImportError(1, reason), Assert.Single(result.Errors));
        Assert.Equal(0, await CountAsync(city));
    }

    [Fact]
    public async Task EmptyBodyImportsNothing()
    {
        Assert.Equal(0, (await ImportAsync(Body(""))).Imported);
        Assert.Equal(0, (await ImportAsync(Body("\n\n"), ImportFormat.Csv)).Imported);
    }

    [Fact]
    public async Task ImportRecordsOneSyncRequestPerDistinctPhone()
    {
        var city = NewCity();
        var (anna, annaE164) = TestPhones.NewSpelledWith8();
        var (ivan, ivanE164) = TestPhones.NewSpelledWith8();

        var first = await ImportAsync(Lines(
            Json(new { customerPhone = anna, deliveryCity = city, totalAmount = 1 }),
            Json(new { customerPhone = annaE164, deliveryCity = city, totalAmount = 2 }),
            Json(new { customerPhone = ivan, deliveryCity = city, totalAmount = 3 })));

        Assert.Equal(2, first.CustomersAffected);
        Assert.Equal(1, await SyncRequestVersionAsync(annaE164));
        Assert.Equal(1, await SyncRequestVersionAsync(ivanE164));

        var second = await ImportAsync(Lines(Json(new { customerPhone = anna, deliveryCity = city, totalAmount = 4 })));

        Assert.Equal(1, second.CustomersAffected);
        Assert.Equal(2, await SyncRequestVersionAsync(annaE164));
        Assert.Equal(1, await SyncRequestVersionAsync(ivanE164));
    }

    [Fact]
    public async Task OrderWithUnparsablePhoneLandsWithoutNormalizedPhoneOrSyncRequest()
    {
        var city = NewCity();
        var requestsBefore = await SyncRequestCountAsync();

        var result = await ImportAsync(Lines(Json(new { customerPhone = "call the shop", deliveryCity = city, totalAmount = 1 })));

        Assert.Equal(new ImportResult(1, 0, 0, result.Errors, 0), result);
        var order = Assert.Single(await OrdersAsync(city));
        Assert.Equal("call the shop", order.CustomerPhone);
        Assert.Null(order.NormalizedPhone);
        Assert.Equal(requestsBefore, await SyncRequestCountAsync());
    }

    [Theory]
    [InlineData(ImportFormat.Ndjson)]
    [InlineData(ImportFormat.Csv)]
    public async Task BodyFailingMidStreamWritesNothing(ImportFormat format)
    {
        var city = NewCity();
        var phone = TestPhones.NewSpelledWith8();
        var (head, tail) = ManyRecords(format, city, phone.Raw, 5_000);
        var body = new ScriptedStream(head, () => throw new IOException("The client went away."), tail);

        await Assert.ThrowsAsync<IOException>(() => ImportAsync(body, format));

        Assert.Equal(0, await CountAsync(city));
        Assert.Null(await SyncRequestVersionAsync(phone.E164));
    }

    [Theory]
    [InlineData(ImportFormat.Ndjson)]
    [InlineData(ImportFormat.Csv)]
    public async Task CancellationMidStreamWritesNothing(ImportFormat format)
    {
        var city = NewCity();
        var phone = TestPhones.NewSpelledWith8();
        var (head, tail) = ManyRecords(format, city, phone.Raw, 5_000);
        using var cancellation = new CancellationTokenSource();
        var body = new ScriptedStream(head, cancellation.Cancel, tail);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => db.Importer.ImportAsync(body, format, cancellation.Token));

        Assert.Equal(0, await CountAsync(city));
        Assert.Null(await SyncRequestVersionAsync(phone.E164));
        // The connection went back to the pool in a usable state.
        Assert.Equal(1, (await ImportAsync(Lines(Json(new { deliveryCity = city, totalAmount = 1 })))).Imported);
    }

    [Fact]
    public async Task BodyThatIsNotUtf8FailsAndWritesNothing()
    {
        var city = NewCity();
        var good = Encoding.UTF8.GetBytes(Json(new { deliveryCity = city, totalAmount = 1 }) + "\n");
        // "Иван" in Windows-1251, as an old Excel export would write it.
        byte[] cp1251 = [.. "{\"customerName\": \""u8, 0xC8, 0xE2, 0xE0, 0xED, .. "\", \"totalAmount\": 1}\n"u8];

        await Assert.ThrowsAsync<InvalidDataException>(() => ImportAsync(new MemoryStream([.. good, .. cp1251, .. good])));

        Assert.Equal(0, await CountAsync(city));
    }

    [Fact]
    public async Task CsvThatIsNotUtf8FailsAndWritesNothing()
    {
        var city = NewCity();
        // Enough good rows before the bad bytes that the COPY is under way when they arrive.
        var good = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat($"{city},1\r\n", 5_000)));
        byte[] cp1251 = [0xC8, 0xE2, 0xE0, 0xED, .. ",1\r\n"u8];

        var failure = await Assert.ThrowsAsync<InvalidDataException>(() => ImportAsync(
            new MemoryStream([.. "deliveryCity,totalAmount\r\n"u8, .. good, .. cp1251, .. good]), ImportFormat.Csv));

        Assert.Contains("UTF-8", failure.Message);
        Assert.Equal(0, await CountAsync(city));
    }

    [Fact]
    public async Task OverLongCsvHeaderWritesNothing()
    {
        var city = NewCity();

        var result = await ImportAsync(Lines("", $"totalAmount,deliveryCity,\"{new string('x', 70_000)}\r\n\"", $"1,{city},x"), ImportFormat.Csv);

        Assert.Equal(new ImportResult(0, 0, 0, result.Errors, 0), result);
        Assert.Equal(new ImportError(2, "record is longer than 65536 characters"), Assert.Single(result.Errors));
        Assert.Equal(0, await CountAsync(city));
    }

    [Fact]
    public void PhoneCacheParsesEachSpellingOnceAndStaysWithinItsCapacity()
    {
        var normalizer = new PhoneNormalizer(Options.Create(new PhoneOptions { DefaultRegion = "RU" }));
        var cache = new PhoneCache(normalizer, capacity: 2);
        var (raw, e164) = TestPhones.NewSpelledWith8();
        var other = TestPhones.NewSpelledWith8();

        var first = cache.Normalize(raw);
        // The same instance: the second lookup did not parse again.
        Assert.Same(first, cache.Normalize(raw));
        Assert.Equal(e164, first);
        Assert.Equal(other.E164, cache.Normalize(other.Raw));
        Assert.Null(cache.Normalize("call the shop"));
        Assert.Null(cache.Normalize(null));
        Assert.Equal(1, cache.Count); // full at two, so cleared before "call the shop" went in

        var again = cache.Normalize(raw);
        Assert.Equal(e164, again);
        Assert.NotSame(first, again);
        Assert.True(cache.Count <= 2);
    }

    [Theory]
    [InlineData(ImportFormat.Ndjson)]
    [InlineData(ImportFormat.Csv)]
    public async Task FiftyThousandLinesImport(ImportFormat format)
    {
        const int count = 50_000;
        var city = NewCity();
        var phones = Enumerable.Range(0, 5_000).Select(_ => TestPhones.NewSpelledWith8()).ToArray();
        var text = new StringBuilder(format == ImportFormat.Csv
            ? "customerName,customerPhone,customerEmail,deliveryCity,deliveryAddress,totalAmount,status,createdAt\r\n"
            : "");
        for (var i = 0; i < count; i++)
        {
            var phone = phones[i % phones.Length];
            var (name, spelling, email, address) = ($"Customer {i}", i % 2 == 0 ? phone.Raw : phone.E164, $"customer{i}@example.com", $"ул. Ленина, {i}");
            var amount = 100m + i % 1000 + 0.25m;
            var status = i % 3 == 0 ? "completed" : "new";
            var createdAt = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddMinutes(i);
            if (format == ImportFormat.Csv)
                text.Append(CultureInfo.InvariantCulture, $"{name},{spelling},{email},{city},\"{address}\",{amount},{status},{createdAt:yyyy-MM-ddTHH:mm:ssZ}\r\n");
            else
                text.Append(Json(new
                {
                    customerName = name,
                    customerPhone = spelling,
                    customerEmail = email,
                    deliveryCity = city,
                    deliveryAddress = address,
                    totalAmount = amount,
                    status,
                    createdAt,
                })).Append('\n');
        }
        var body = Body(text.ToString());

        var stopwatch = Stopwatch.StartNew();
        var result = await ImportAsync(body, format);
        stopwatch.Stop();

        output.WriteLine($"Imported {result.Imported} orders ({format}) in {stopwatch.ElapsedMilliseconds} ms: {result.Imported / stopwatch.Elapsed.TotalSeconds:N0} orders/s");
        Assert.Equal(new ImportResult(count, 0, 0, result.Errors, phones.Length), result);
        Assert.Equal(count, await CountAsync(city));
    }

    // A body that breaks off between head and tail: valid records of one phone, the CSV one
    // with its header in the head.
    private static (byte[] Head, byte[] Tail) ManyRecords(ImportFormat format, string city, string phone, int count)
    {
        if (format == ImportFormat.Ndjson)
        {
            var lines = Encoding.UTF8.GetBytes(string.Concat(
                Enumerable.Range(0, count).Select(i => Json(new { customerPhone = phone, deliveryCity = city, totalAmount = i }) + "\n")));
            return (lines, lines);
        }
        var rows = string.Concat(Enumerable.Range(0, count).Select(i => $"\"{phone}\",{city},{i}\r\n"));
        return (Encoding.UTF8.GetBytes("customerPhone,deliveryCity,totalAmount\r\n" + rows), Encoding.UTF8.GetBytes(rows));
    }

    // Serves `head`, then runs `afterHead` (which throws or cancels), then serves `tail`:
    // a request body that breaks off after part of the upload.
    private sealed class ScriptedStream(byte[] head, Action afterHead, byte[] tail) : Stream
    {
        private readonly byte[] _data = [.. head, .. tail];
        private int _position;
        private bool _afterHeadRan;

        public override int Read(Span<byte> buffer)
        {
            if (_position == head.Length && !_afterHeadRan)
            {
                _afterHeadRan = true;
                afterHead();
            }
            var end = _position < head.Length ? head.Length : _data.Length;
            var count = Math.Min(buffer.Length, end - _position);
            _data.AsSpan(_position, count).CopyTo(buffer);
            _position += count;
            return count;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
            Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
