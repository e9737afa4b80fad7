using System.Net;
using System.Text.Json.Nodes;
using Crm.Api.Customers;
using Crm.Api.Infrastructure;
using Crm.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Crm.Tests.Customers;

// Lists count their matches only up to PagingRules.MaxCount, over just more customers than that.
public class CustomersCountTests : IClassFixture<CustomersCountTests.Fixture>
{
    private const int Customers = PagingRules.MaxCount + 1;

    private readonly Fixture _factory;
    private readonly HttpClient _client;

    public CustomersCountTests(Fixture fixture)
    {
        _factory = fixture;
        _client = fixture.CreateClient();
    }

    public sealed class Fixture : CrmApiFactory
    {
        // Every customer is new except the last, a VIP, so `category=new` matches exactly MaxCount;
        // every 250th is named "Редкий" (4 in all); customer i was created i minutes after the start.
        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            await using var db = CreateDbContext();
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO customers (name, phone, email, category, created_at, updated_at)
                SELECT CASE WHEN i % 250 = 0 THEN 'Редкий ' || i ELSE 'Покупатель ' || i END,
                       '+79' || lpad(i::text, 9, '0'),
                       'user' || i || '@example.com',
                       CASE WHEN i = {Customers} THEN 'vip' ELSE 'new' END,
                       timestamptz '2026-10-01 00:00:00+00' + i * interval '1 minute',
                       timestamptz '2026-10-01 00:00:00+00' + i * interval '1 minute'
                FROM generate_series(1, {Customers}) AS i
                """);
        }
    }

    private async Task<PagedResponse<CustomerResponse>> ListAsync(string query)
    {
        var response = await _client.GetAsync("/api/customers" + query);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.ReadJsonAsync<PagedResponse<CustomerResponse>>();
    }

    [Fact]
    public async Task UnfilteredListStopsCountingAtTheCapAndSaysSo()
    {
        var page = await ListAsync("");
        Assert.Equal(PagingRules.MaxCount, page.TotalCount);
        Assert.False(page.TotalCountExact);
        Assert.Equal(50, page.Items.Count);
    }

    [Fact]
    public async Task FilterMatchingExactlyTheCapIsCountedExactly()
    {
        var page = await ListAsync("?category=new");
        Assert.Equal(PagingRules.MaxCount, page.TotalCount);
        Assert.True(page.TotalCountExact);
    }

    [Theory]
    [InlineData("?search=редкий", 4)]
    [InlineData("?category=vip", 1)]
    public async Task FilterOrSearchMatchingAFewIsCountedExactly(string query, int expected)
    {
        var page = await ListAsync(query);
        Assert.Equal(expected, page.TotalCount);
        Assert.True(page.TotalCountExact);
        Assert.Equal(expected, page.Items.Count);
    }

    [Fact]
    public async Task PagesBeyondTheCountStillReturnItems()
    {
        // The page just past MaxCount rows, newest first: only the oldest customer is left there.
        var pageNumber = PagingRules.MaxCount / 50 + 1;
        var page = await ListAsync($"?page={pageNumber}&pageSize=50");
        var only = Assert.Single(page.Items);
        Assert.Equal("+79000000001", only.Phone);
        Assert.Equal(pageNumber, page.Page);
        Assert.False(page.TotalCountExact);
    }

    [Theory]
    [InlineData("?count=exact", Customers)]
    [InlineData("?category=new&count=exact", PagingRules.MaxCount)]
    [InlineData("?search=редкий&count=exact", 4)]
    public async Task CountExactCountsEveryMatch(string query, int expected)
    {
        var page = await ListAsync(query);
        Assert.Equal(expected, page.TotalCount);
        Assert.True(page.TotalCountExact);
    }

    [Theory]
    [InlineData("/api/orders?count=exact")]
    [InlineData("/api/customers/1/orders?count=exact")]
    [InlineData("/api/sync/runs?count=exact")]
    [InlineData("/api/sync/errors?count=exact")]
    public async Task EveryPagedListAcceptsCountExact(string path)
    {
        var response = await _client.GetAsync(path);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var page = await response.ReadJsonAsync();
        Assert.Equal(0, (int)page["totalCount"]!);
        Assert.True((bool)page["totalCountExact"]!);
    }

    [Theory]
    [InlineData("/api/customers?count=all")]
    [InlineData("/api/orders?count=Exact")]
    [InlineData("/api/sync/runs?count=")]
    public async Task AnyOtherCountIsABadRequestNamingIt(string path)
    {
        var problem = await (await _client.GetAsync(path)).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotNull(problem["errors"]!["count"]);
    }

    // The exact count is bounded by a statement timeout: here it waits for a lock held longer.
    [Fact]
    public async Task AnExactCountThatTakesTooLongIsStoppedAndSaysSo()
    {
        await using var db = _factory.CreateDbContext();
        await using var transaction = await db.Database.BeginTransactionAsync();
        await db.Database.ExecuteSqlRawAsync("LOCK TABLE customers IN ACCESS EXCLUSIVE MODE");

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var response = await _client.GetAsync("/api/customers?count=exact");
        watch.Stop();

        var problem = await response.AssertProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Contains("count=exact", (string)problem["detail"]!);
        Assert.InRange(watch.Elapsed, PagingRules.ExactCountTimeout, PagingRules.ExactCountTimeout + TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task OpenApiDocumentDescribesTheCountAndWhetherItIsExact()
    {
        var document = await (await _client.GetAsync("/openapi/v1.json")).ReadJsonAsync();
        var schema = (string)document["paths"]!["/api/customers"]!["get"]!["responses"]!["200"]!
            ["content"]!["application/json"]!["schema"]!["$ref"]!;
        var properties = document["components"]!["schemas"]![schema.Split('/').Last()]!["properties"]!;
        Assert.NotNull(properties["totalCount"]);
        Assert.Equal("boolean", (string)properties["totalCountExact"]!["type"]!);
    }
}
