using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Crm.Api.Customers;
using Crm.Api.Infrastructure;
using Crm.Jobs.Customers;
using Crm.Tests.Infrastructure;
using nietras.SeparatedValues;

namespace Crm.Tests.Customers;

// GET /api/customers with Accept: text/csv: the whole segment (not one page) as RFC 4180 CSV
// in UTF-8 with a byte order mark, read back here with Sep as a spreadsheet would read it.
public class CustomerCsvTests : IClassFixture<CustomerCsvTests.Fixture>
{
    private const int Many = 1_234; // more than the largest page
    private static readonly DateTime Day = new(2026, 10, 1, 0, 0, 0, DateTimeKind.Utc);

    private readonly Fixture _fixture;
    private readonly HttpClient _client;

    public CustomerCsvTests(Fixture fixture)
    {
        _fixture = fixture;
        _client = fixture.CreateClient();
    }

    public sealed class Fixture : CrmApiFactory
    {
        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            await using var db = CreateDbContext();
            db.Customers.AddRange(Enumerable.Range(0, Many).Select(i => Customer($"Покупатель {i:D4}", "Казань", CustomerCategory.Regular, i)));
            db.Customers.AddRange(
                Customer("Иванов, Иван \"Ваня\"", "Санкт-Петербург", CustomerCategory.Vip, 1, address: "ул. Ленина, 1\r\nкв. 2"),
                Customer("=HYPERLINK(\"http://example.test\")", "Уфа", CustomerCategory.Vip, 2, email: "+cmd@example.test"),
                Customer("Ёлкина Алёна", "Уфа", CustomerCategory.Vip, 3, notes: "@note"));
            await db.SaveChangesAsync();
        }

        private static Customer Customer(string name, string city, CustomerCategory category, int n,
            string address = "", string email = "", string notes = "") => new()
            {
                Name = name, Phone = TestPhones.New(), City = city, Category = category, Address = address, Email = email, Notes = notes,
                TotalOrders = n % 7, TotalSpent = 1_000.5m * (n % 7), AverageOrder = n % 7 == 0 ? 0 : 1_000.5m,
                LastOrderDate = n % 7 == 0 ? null : Day.AddDays(-n), CreatedAt = Day.AddSeconds(n), UpdatedAt = Day.AddSeconds(n),
            };
    }

    private async Task<HttpResponseMessage> CsvAsync(string query, string accept = "text/csv", HttpClient? client = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/customers?" + query);
        request.Headers.Accept.ParseAdd(accept);
        return await (client ?? _client).SendAsync(request);
    }

    private static List<Dictionary<string, string>> Rows(string text)
    {
        using var reader = Sep.Reader(o => o with { Unescape = true }).FromText(text);
        var names = reader.Header.ColNames;
        var rows = new List<Dictionary<string, string>>();
        foreach (var row in reader)
        {
            var values = new Dictionary<string, string>();
            foreach (var name in names)
                values[name] = row[name].ToString();
            rows.Add(values);
        }
        return rows;
    }

    private static async Task<string> TextAsync(HttpResponseMessage response)
    {
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(Encoding.UTF8.Preamble.ToArray(), bytes.Take(3).ToArray());
        return new UTF8Encoding(false).GetString(bytes, 3, bytes.Length - 3);
    }

    [Fact]
    public async Task TheWholeSegmentComesAsOneFileInTheListsOrder()
    {
        var response = await CsvAsync("city=казань&ordering=-createdAt&pageSize=10&page=3");
        var text = await TextAsync(response);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("utf-8", response.Content.Headers.ContentType?.CharSet);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("customers.csv", response.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        Assert.Contains("Accept", response.Headers.Vary);

        // RFC 4180: every record ends with CRLF; no bare line feed outside a quoted value here.
        Assert.StartsWith("id,name,phone,email,city,address,notes,category,totalOrders,totalSpent,averageOrder,lastOrderDate,createdAt,updatedAt\r\n", text);
        Assert.EndsWith("\r\n", text);
        Assert.DoesNotContain("\n", text.Replace("\r\n", ""));

        var rows = Rows(text);
        Assert.Equal(Many, rows.Count);
        Assert.Equal(Enumerable.Range(0, Many).Reverse().Select(i => $"Покупатель {i:D4}"), rows.Select(r => r["name"]));

        // The same customers, the same values as the JSON list's pages.
        var listed = new List<CustomerResponse>();
        for (var page = 1; listed.Count < Many; page++)
        {
            var json = await _client.GetAsync($"/api/customers?city=казань&ordering=-createdAt&pageSize=200&page={page}");
            var items = (await json.ReadJsonAsync<PagedResponse<CustomerResponse>>()).Items;
            Assert.NotEmpty(items);
            listed.AddRange(items);
        }
        Assert.Equal(listed.Select(c => c.Id.ToString()), rows.Select(r => r["id"]));
        Assert.Equal(listed.Select(c => c.Phone), rows.Select(r => r["phone"]));
        Assert.Equal(listed.Select(c => c.TotalSpent.ToString(System.Globalization.CultureInfo.InvariantCulture)), rows.Select(r => r["totalSpent"]));
        Assert.Equal(listed.Select(c => c.LastOrderDate?.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'") ?? ""), rows.Select(r => r["lastOrderDate"]));
        Assert.All(rows, r => Assert.Equal("regular", r["category"]));
    }

    [Fact]
    public async Task CommasQuotesLineBreaksAndCyrillicSurviveAndFormulasStayText()
    {
        var text = await TextAsync(await CsvAsync("category=vip&ordering=createdAt"));
        Assert.Contains("\"Иванов, Иван \"\"Ваня\"\"\"", text);
        var rows = Rows(text);
        Assert.Equal(3, rows.Count);
        Assert.Equal("Иванов, Иван \"Ваня\"", rows[0]["name"]);
        Assert.Equal("ул. Ленина, 1\r\nкв. 2", rows[0]["address"]);
        Assert.Equal("Санкт-Петербург", rows[0]["city"]);
        // A value a spreadsheet would run as a formula is shown as text.
        Assert.Equal("'=HYPERLINK(\"http://example.test\")", rows[1]["name"]);
        Assert.Equal("'+cmd@example.test", rows[1]["email"]);
        Assert.Equal("'@note", rows[2]["notes"]);
        Assert.Equal("Ёлкина Алёна", rows[2]["name"]);
        Assert.StartsWith("+7", rows[2]["phone"]);
    }

    [Fact]
    public async Task AnEmptySegmentIsTheHeaderAlone()
    {
        var text = await TextAsync(await CsvAsync("city=Нигде"));
        Assert.Equal("id,name,phone,email,city,address,notes,category,totalOrders,totalSpent,averageOrder,lastOrderDate,createdAt,updatedAt\r\n", text);
    }

    [Fact]
    public async Task CsvComesOnlyWhenAskedForAndNotLessThanJson()
    {
        var json = await CsvAsync("city=Уфа", "application/json, text/csv;q=0.5");
        Assert.Equal("application/json", json.Content.Headers.ContentType?.MediaType);
        Assert.Equal(2, (await json.ReadJsonAsync<PagedResponse<CustomerResponse>>()).Items.Count);

        var csv = await CsvAsync("city=Уфа", "text/csv, application/json;q=0.9");
        Assert.Equal(2, Rows(await TextAsync(csv)).Count);
    }

    [Fact]
    public async Task BadFiltersAreA400NamingTheParameterNotAFile()
    {
        var response = await CsvAsync("minSpent=-5");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("minSpent", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AReaderKeyExportsAndNoKeyIs401()
    {
        Assert.Equal(2, Rows(await TextAsync(await CsvAsync("city=Уфа", client: _fixture.CreateClient(TestKeys.Reader)))).Count);
        using var anonymous = _fixture.CreateClient(key: null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await CsvAsync("city=Уфа", client: anonymous)).StatusCode);
    }

    // An error is problem JSON whatever the caller accepts: no writer for text/csv is no 500.
    [Theory]
    [InlineData("/api/customers?city=Уфа", "text/csv", null, HttpStatusCode.Unauthorized)]
    [InlineData("/api/customers?city=Уфа", "text/html", null, HttpStatusCode.Unauthorized)]
    [InlineData("/api/customers/999999999", "text/csv", "admin", HttpStatusCode.NotFound)]
    [InlineData("/api/customers/1/erase", "text/csv", "reader", HttpStatusCode.MethodNotAllowed)]
    public async Task ErrorsAreProblemJsonWhateverTheCallerAccepts(string path, string accept, string? role, HttpStatusCode expected)
    {
        using var client = _fixture.CreateClient(TestKeys.All.FirstOrDefault(k => k.Roles == role));
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd(accept);
        var response = await client.SendAsync(request);
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains($"\"status\":{(int)expected}", await response.Content.ReadAsStringAsync());
    }
}
