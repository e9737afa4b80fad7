using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Crm.Api.Customers;
using Crm.Api.Infrastructure;
using Crm.Api.Segments;
using Crm.Jobs.Customers;
using Crm.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Crm.Tests.Segments;

// Saved segments: a name for a filter of GET /api/customers whose count and customers follow
// the data, equal to the list's for the same filter. Each test keeps to a city of its own.
public class SegmentsTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private DateTime Now => factory.Clock.GetUtcNow().UtcDateTime;

    private static string NewCity() => "Город " + Guid.NewGuid().ToString("N")[..8];

    private async Task<long> CustomerAsync(string name, string city, CustomerCategory category = CustomerCategory.Regular,
        int orders = 1, decimal spent = 1_000m, DateTime? lastOrder = null, int createdHoursAgo = 1)
    {
        await using var db = factory.CreateDbContext();
        var customer = new Customer
        {
            Name = name, Phone = TestPhones.New(), City = city, Category = category,
            TotalOrders = orders, TotalSpent = spent, AverageOrder = orders == 0 ? 0 : Math.Round(spent / orders, 2),
            LastOrderDate = lastOrder, CreatedAt = Now.AddHours(-createdHoursAgo), UpdatedAt = Now,
        };
        db.Customers.Add(customer);
        await db.SaveChangesAsync();
        return customer.Id;
    }

    private async Task<HttpResponseMessage> PostAsync(object body) => await _client.PostAsJsonAsync("/api/segments", body);

    private async Task<SegmentResponse> CreateAsync(string name, object filter)
    {
        var response = await PostAsync(new { name, filter });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return await response.ReadJsonAsync<SegmentResponse>();
    }

    private async Task<T> GetAsync<T>(string url)
    {
        var response = await _client.GetAsync(url);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {await response.Content.ReadAsStringAsync()}");
        return await response.ReadJsonAsync<T>();
    }

    private async Task<string[]> NamesAsync(string url) =>
        (await GetAsync<PagedResponse<CustomerResponse>>(url)).Items.Select(c => c.Name).ToArray();

    private async Task<long> SegmentRowsAsync()
    {
        await using var db = factory.CreateDbContext();
        return await db.Segments.LongCountAsync();
    }

    [Fact]
    public async Task ACreatedSegmentIsAnswered201WithItsLocationCountAndAuthor()
    {
        var city = NewCity();
        await CustomerAsync("Анна", city, CustomerCategory.Vip);
        await CustomerAsync("Борис", city, CustomerCategory.Regular);

        var response = await factory.CreateClient(TestKeys.Operator).PostAsJsonAsync("/api/segments",
            new { name = "  VIP в городе  ", filter = new { category = new[] { "vip" }, city, ordering = "name" } });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.ReadJsonAsync<SegmentResponse>();
        Assert.Equal($"/api/segments/{created.Id}", response.Headers.Location?.ToString());
        Assert.Equal("VIP в городе", created.Name);
        Assert.Equal(["vip"], created.Filter.Category!);
        Assert.Equal(city, created.Filter.City);
        Assert.Equal("name", created.Filter.Ordering);
        Assert.Equal(1, created.Count);
        Assert.Equal(TestKeys.Operator.Name, created.CreatedBy);
        Assert.Equal(Now, created.CreatedAt);
        var read = await GetAsync<SegmentResponse>($"/api/segments/{created.Id}");
        Assert.Equal(created with { Filter = null! }, read with { Filter = null! });
        Assert.Equivalent(created.Filter, read.Filter, strict: true);
    }

    [Fact]
    public async Task TheListShowsEverySegmentByNameWithItsCurrentCountAndIsPaged()
    {
        var city = NewCity();
        await CustomerAsync("Анна", city, CustomerCategory.Vip, spent: 200_000m);
        await CustomerAsync("Борис", city, CustomerCategory.Regular, spent: 20_000m);
        await CustomerAsync("Вера", city, CustomerCategory.Regular, spent: 5_000m);
        var prefix = city + " ";
        var everyone = await CreateAsync(prefix + "все", new { city });
        var spenders = await CreateAsync(prefix + "от 10 000", new { city, minSpent = 10_000 });
        var nobody = await CreateAsync(prefix + "никто", new { city, category = new[] { "inactive" } });

        var list = await GetAsync<PagedResponse<SegmentResponse>>("/api/segments?pageSize=200");

        var ours = list.Items.Where(s => s.Name.StartsWith(prefix)).ToList();
        Assert.Equal([prefix + "все", prefix + "никто", prefix + "от 10 000"], ours.Select(s => s.Name));
        Assert.Equal([3, 0, 2], ours.Select(s => s.Count));
        Assert.Equal([everyone.Id, nobody.Id, spenders.Id], ours.Select(s => s.Id));
        Assert.True(list.TotalCountExact);
        Assert.Equal(list.Items.Count, list.TotalCount);
        var firstPage = await GetAsync<PagedResponse<SegmentResponse>>("/api/segments?pageSize=1");
        Assert.Single(firstPage.Items);
        Assert.Equal(list.TotalCount, firstPage.TotalCount);
        Assert.Equal(list.Items[0].Id, firstPage.Items[0].Id);
    }

    [Fact]
    public async Task TheCountAndTheCustomersFollowTheData()
    {
        var city = NewCity();
        await CustomerAsync("Анна", city, CustomerCategory.Vip);
        var boris = await CustomerAsync("Борис", city, CustomerCategory.Regular);
        var segment = await CreateAsync(city + " VIP", new { city, category = new[] { "vip" } });
        Assert.Equal(["Анна"], await NamesAsync($"/api/segments/{segment.Id}/customers"));

        await using (var db = factory.CreateDbContext())
            await db.Customers.Where(c => c.Id == boris).ExecuteUpdateAsync(c => c.SetProperty(x => x.Category, CustomerCategory.Vip));

        Assert.Equal(2, (await GetAsync<SegmentResponse>($"/api/segments/{segment.Id}")).Count);
        Assert.Equal(["Анна", "Борис"], await NamesAsync($"/api/segments/{segment.Id}/customers?ordering=name"));
        var listed = (await GetAsync<PagedResponse<SegmentResponse>>("/api/segments?pageSize=200")).Items.Single(s => s.Id == segment.Id);
        Assert.Equal(2, listed.Count);
    }

    // The same filter, saved or given to GET /api/customers, selects the same customers in the same order.
    [Theory]
    [InlineData("""{"category":["vip","regular"]}""", "category=vip&category=regular")]
    [InlineData("""{"minSpent":10000,"maxSpent":150000,"ordering":"-totalSpent"}""", "minSpent=10000&maxSpent=150000&ordering=-totalSpent")]
    [InlineData("""{"minOrders":2,"maxOrders":12,"ordering":"name"}""", "minOrders=2&maxOrders=12&ordering=name")]
    [InlineData("""{"lastOrderTo":"-P60D","ordering":"lastOrderDate"}""", "lastOrderTo=-P60D&ordering=lastOrderDate")]
    [InlineData("""{"lastOrderFrom":"-P80D","lastOrderTo":"-PT12H"}""", "lastOrderFrom=-P80D&lastOrderTo=-PT12H")]
    [InlineData("""{"createdFrom":"-PT30H","createdTo":"-P1DT2H"}""", "createdFrom=-PT30H&createdTo=-P1DT2H")]
    [InlineData("""{"category":["vip"],"lastOrderTo":"2026-09-01"}""", "category=vip&lastOrderTo=2026-09-01")]
    public async Task ASegmentsCustomersAreTheListsForTheSameFilter(string filter, string query)
    {
        var city = NewCity();
        var i = 0;
        foreach (var (category, orders, spent, daysAgo) in new[]
        {
            (CustomerCategory.Vip, 12, 150_000m, (int?)1), (CustomerCategory.Regular, 4, 20_000m, 70),
            (CustomerCategory.Vip, 15, 300_000m, 100), (CustomerCategory.New, 0, 0m, null),
            (CustomerCategory.Inactive, 3, 9_000m, 300), (CustomerCategory.Vip, 11, 120_000m, 90),
            (CustomerCategory.Regular, 2, 10_000m, 61), (CustomerCategory.Regular, 2, 10_000m, 59),
        })
        {
            i++;
            await CustomerAsync($"Клиент {i}", city, category, orders, spent,
                daysAgo is { } days ? Now.AddDays(-days) : null, createdHoursAgo: 24 + i);
        }
        var withCity = filter.Insert(1, $"\"city\":\"{city}\",");
        var created = await _client.PostAsync("/api/segments",
            new StringContent($$"""{"name":"{{city}}","filter":{{withCity}}}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var segment = await created.ReadJsonAsync<SegmentResponse>();
        var list = $"/api/customers?city={Uri.EscapeDataString(city)}&{query}";

        var expected = await GetAsync<JsonNode>(list + "&pageSize=200");
        Assert.NotEmpty(expected["items"]!.AsArray());
        Assert.Equal(expected.ToJsonString(), (await GetAsync<JsonNode>($"/api/segments/{segment.Id}/customers?pageSize=200")).ToJsonString());
        Assert.Equal((int)expected["totalCount"]!, segment.Count);
        // Paged and ordered alike, the request's ordering before the segment's own.
        var unordered = $"/api/customers?city={Uri.EscapeDataString(city)}&" + string.Join('&', query.Split('&').Where(p => !p.StartsWith("ordering=")));
        Assert.Equal((await GetAsync<JsonNode>(unordered + "&pageSize=2&page=2&ordering=-name")).ToJsonString(),
            (await GetAsync<JsonNode>($"/api/segments/{segment.Id}/customers?pageSize=2&page=2&ordering=-name")).ToJsonString());
        Assert.Equal((await GetAsync<JsonNode>(list + "&count=exact&pageSize=1")).ToJsonString(),
            (await GetAsync<JsonNode>($"/api/segments/{segment.Id}/customers?count=exact&pageSize=1")).ToJsonString());
    }

    private async Task<HttpResponseMessage> CsvAsync(string url)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.ParseAdd("text/csv");
        return await _client.SendAsync(request);
    }

    // With Accept: text/csv a segment's customers are the list's file for the same filter: every page of it.
    [Fact]
    public async Task ASegmentsCsvIsTheListsCsvForTheSameFilter()
    {
        var city = NewCity();
        for (var i = 0; i < 5; i++)
            await CustomerAsync($"Клиент {i}", city, i % 2 == 0 ? CustomerCategory.Vip : CustomerCategory.Regular, spent: 1_000m * i);
        var segment = await CreateAsync(city + " CSV", new { city, category = new[] { "vip" }, ordering = "-totalSpent" });

        var saved = await CsvAsync($"/api/segments/{segment.Id}/customers?pageSize=1");
        var listed = await CsvAsync($"/api/customers?city={Uri.EscapeDataString(city)}&category=vip&ordering=-totalSpent&pageSize=1");

        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        Assert.Equal("text/csv", saved.Content.Headers.ContentType?.MediaType);
        Assert.Equal($"segment-{segment.Id}.csv", saved.Content.Headers.ContentDisposition?.FileName);
        var text = await saved.Content.ReadAsStringAsync();
        Assert.Equal(await listed.Content.ReadAsStringAsync(), text);
        var lines = text.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(1 + 3, lines.Length);
        Assert.Contains("Клиент 4", lines[1]);
        await (await CsvAsync("/api/segments/987654321/customers")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    // "Haven't ordered for 60 days" saved today is still true in a month: -P60D is 60 days before each read.
    [Fact]
    public async Task ARelativeBoundIsThatLongBeforeNow()
    {
        var city = NewCity();
        await CustomerAsync("61 день", city, lastOrder: Now.AddDays(-61));
        await CustomerAsync("59 дней", city, lastOrder: Now.AddDays(-59));
        await CustomerAsync("Без заказов", city, orders: 0, spent: 0);
        var cityQuery = "city=" + Uri.EscapeDataString(city);

        Assert.Equal(["61 день"], await NamesAsync($"/api/customers?{cityQuery}&lastOrderTo=-P60D"));
        Assert.Equal(["59 дней"], await NamesAsync($"/api/customers?{cityQuery}&lastOrderFrom=-P60D"));
        Assert.Equal(["59 дней"], await NamesAsync($"/api/customers?{cityQuery}&lastOrderFrom=-P59DT1H&lastOrderTo=-PT12H"));
        var segment = await CreateAsync(city + " 60 дней без заказов", new { city, lastOrderTo = "-P60D" });
        Assert.Equal(1, segment.Count);
        Assert.Equal(["61 день"], await NamesAsync($"/api/segments/{segment.Id}/customers"));
    }

    [Theory]
    [InlineData("-P60D", -60 * 24.0)]
    [InlineData("-PT12H", -12.0)]
    [InlineData("-P1DT2H", -26.0)]
    [InlineData("-PT90M", -1.5)]
    [InlineData("-P0D", 0.0)]
    public void ParseTimeReadsANegativeDurationAsThatLongBeforeNow(string text, double hours)
    {
        var now = new DateTime(2026, 11, 1, 12, 0, 0, DateTimeKind.Utc);
        Assert.Equal(now.AddHours(hours), CustomerFilters.ParseTime(text, now));
    }

    [Theory]
    [InlineData("P60D")]
    [InlineData("-60D")]
    [InlineData("-P")]
    [InlineData("-PT")]
    [InlineData("-P60X")]
    [InlineData("--P60D")]
    [InlineData("-P99999999D")]
    public void ParseTimeRefusesWhatIsNoPastDuration(string text) =>
        Assert.Null(CustomerFilters.ParseTime(text, new DateTime(2026, 11, 1, 12, 0, 0, DateTimeKind.Utc)));

    [Fact]
    public async Task ABadTimeBoundIsRefusedNamingTheFormsAccepted()
    {
        var problem = await (await _client.GetAsync("/api/customers?lastOrderTo=P60D")).AssertValidationErrorAsync("lastOrderTo");
        var message = (string)problem["errors"]!["lastOrderTo"]![0]!;
        Assert.Contains("ISO 8601", message);
        Assert.Contains("-P60D", message);
    }

    [Theory]
    [InlineData("""{"name":"x","filter":{"minSpent":-1}}""", "filter.minSpent")]
    [InlineData("""{"name":"x","filter":{"minSpent":"много"}}""", "filter.minSpent")]
    [InlineData("""{"name":"x","filter":{"minSpent":10,"maxSpent":5}}""", "filter.maxSpent")]
    [InlineData("""{"name":"x","filter":{"minOrders":-1}}""", "filter.minOrders")]
    [InlineData("""{"name":"x","filter":{"minOrders":1.5}}""", "filter.minOrders")]
    [InlineData("""{"name":"x","filter":{"minOrders":5,"maxOrders":4}}""", "filter.maxOrders")]
    [InlineData("""{"name":"x","filter":{"category":["gold"]}}""", "filter.category")]
    [InlineData("""{"name":"x","filter":{"category":"vip"}}""", "filter.category")]
    [InlineData("""{"name":"x","filter":{"city":"Ка\u0000зань"}}""", "filter.city")]
    [InlineData("""{"name":"x","filter":{"lastOrderFrom":"вчера"}}""", "filter.lastOrderFrom")]
    [InlineData("""{"name":"x","filter":{"lastOrderTo":"P60D"}}""", "filter.lastOrderTo")]
    [InlineData("""{"name":"x","filter":{"lastOrderFrom":"-P10D","lastOrderTo":"-P60D"}}""", "filter.lastOrderTo")]
    [InlineData("""{"name":"x","filter":{"createdFrom":"2026-13-01"}}""", "filter.createdFrom")]
    [InlineData("""{"name":"x","filter":{"createdFrom":"2026-10-02","createdTo":"2026-10-01"}}""", "filter.createdTo")]
    [InlineData("""{"name":"x","filter":{"ordering":"phone"}}""", "filter.ordering")]
    [InlineData("""{"name":"x","filter":{"minSpend":100000}}""", "filter.minSpend")]
    [InlineData("""{"name":"x","filter":{"search":"Иванов"}}""", "filter.search")]
    [InlineData("""{"name":"x","filter":{"page":2}}""", "filter.page")]
    [InlineData("""{"name":"x","filter":[]}""", "filter")]
    [InlineData("""{"name":"x"}""", "filter")]
    [InlineData("""{"name":"x","filter":null}""", "filter")]
    [InlineData("""{"filter":{}}""", "name")]
    [InlineData("""{"name":"","filter":{}}""", "name")]
    [InlineData("""{"name":"   ","filter":{}}""", "name")]
    [InlineData("""{"name":"a\u0007b","filter":{}}""", "name")]
    [InlineData("""{"name":"x","filter":{},"count":5}""", "count")]
    public async Task BadInputIsRefusedNamingTheFieldAndWritesNothing(string body, string field)
    {
        var before = await SegmentRowsAsync();
        await (await _client.PostRawAsync("/api/segments", body)).AssertValidationErrorAsync(field);
        Assert.Equal(before, await SegmentRowsAsync());
    }

    [Fact]
    public async Task ANameOverOneHundredCharactersIsRefused()
    {
        var before = await SegmentRowsAsync();
        await (await PostAsync(new { name = new string('я', 101), filter = new { } })).AssertValidationErrorAsync("name");
        Assert.Equal(before, await SegmentRowsAsync());
        // Spaces around it are not part of it.
        Assert.Equal(100, (await CreateAsync($"  {new string('ю', 100)}  ", new { })).Name.Length);
    }

    [Fact]
    public async Task ATakenNameInAnyCaseIsAConflictNamingTheExistingSegment()
    {
        var city = NewCity();
        var first = await CreateAsync("Спящие VIP " + city, new { category = new[] { "vip" } });
        var before = await SegmentRowsAsync();

        var response = await PostAsync(new { name = " спящие vip " + city.ToUpperInvariant(), filter = new { city } });

        var problem = await response.AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal(first.Id, (long)problem["existingId"]!);
        Assert.NotNull(problem["errors"]!["name"]);
        Assert.Equal(before, await SegmentRowsAsync());
    }

    [Fact]
    public async Task ADeletedSegmentIsGoneAndUnknownSegmentsAre404()
    {
        var segment = await CreateAsync("Удаляемый " + NewCity(), new { });

        var deleted = await factory.CreateClient(TestKeys.Operator).DeleteAsync($"/api/segments/{segment.Id}");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await (await _client.GetAsync($"/api/segments/{segment.Id}")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await _client.GetAsync($"/api/segments/{segment.Id}/customers")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await _client.DeleteAsync($"/api/segments/{segment.Id}")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await _client.GetAsync("/api/segments/abc")).AssertValidationErrorAsync("id");
    }

    [Fact]
    public async Task TheSegmentsCustomersRefuseBadPagingAndOrderingNamingTheParameter()
    {
        var segment = await CreateAsync("Постраничный " + NewCity(), new { });
        foreach (var (query, parameter) in new[] { ("page=0", "page"), ("pageSize=201", "pageSize"), ("ordering=phone", "ordering"), ("count=maybe", "count") })
            await (await _client.GetAsync($"/api/segments/{segment.Id}/customers?{query}")).AssertValidationErrorAsync(parameter);
    }

    [Fact]
    public async Task AReaderMayReadSegmentsButNotWriteThem()
    {
        var segment = await CreateAsync("Для чтения " + NewCity(), new { });
        var reader = factory.CreateClient(TestKeys.Reader);

        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/api/segments")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync($"/api/segments/{segment.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync($"/api/segments/{segment.Id}/customers")).StatusCode);
        await (await reader.PostAsJsonAsync("/api/segments", new { name = "Читатель " + NewCity(), filter = new { } }))
            .AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await reader.DeleteAsync($"/api/segments/{segment.Id}")).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await factory.CreateClient(key: null).GetAsync("/api/segments")).AssertProblemAsync(HttpStatusCode.Unauthorized);
    }
}
