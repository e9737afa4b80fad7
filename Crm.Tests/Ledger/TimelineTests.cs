using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Crm.Tests.Infrastructure;

namespace Crm.Tests.Ledger;

// GET /api/customers/{id}/timeline: orders, notes and ledger changes in one list, newest
// first, through the real API and the real sync jobs. The clock moves a minute per step.
public class TimelineTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private async Task<JsonNode> PostOrderAsync(object order)
    {
        var response = await _client.PostAsJsonAsync("/api/orders", order);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var body = await response.ReadJsonAsync();
        await _client.JobAsync((string)body["syncJobId"]!);
        return body;
    }

    private async Task<JsonNode> TimelineAsync(long id, string query = "")
    {
        var response = await _client.GetAsync($"/api/customers/{id}/timeline{query}");
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.ReadJsonAsync();
    }

    // A customer with two old orders (synced one by one), then a note, a new city and a third order a minute apart.
    private async Task<(long Id, long[] OrderIds, long NoteId)> ACustomerWithAHistoryAsync()
    {
        var phone = TestPhones.New();
        var first = await PostOrderAsync(new
        {
            customerName = "Ольга Смирнова", customerPhone = phone, totalAmount = 1000, status = "completed", createdAt = "2026-10-01T10:00:00Z",
        });
        var second = await PostOrderAsync(new
        {
            customerName = "Ольга Смирнова", customerPhone = phone, totalAmount = 2000.50m, status = "completed", createdAt = "2026-10-10T10:00:00Z",
        });
        var id = (long)(await _client.CustomerByPhoneAsync(phone))!["id"]!;

        factory.Clock.Advance(TimeSpan.FromMinutes(1));
        var note = await (await _client.PostAsJsonAsync($"/api/customers/{id}/notes", new { note = "Prefers evening delivery" })).ReadJsonAsync();
        factory.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(HttpStatusCode.OK, (await _client.PatchJsonAsync($"/api/customers/{id}", new { city = "Казань" })).StatusCode);
        factory.Clock.Advance(TimeSpan.FromMinutes(1));
        var third = await PostOrderAsync(new { customerName = "Ольга Смирнова", customerPhone = phone, totalAmount = 300, status = "completed" });
        await Waiting.UntilAsync(() => _client.CustomerByPhoneAsync(phone), c => (int)c!["totalOrders"]! == 3, "the third order counted");

        return (id, [(long)first["id"]!, (long)second["id"]!, (long)third["id"]!], (long)note["id"]!);
    }

    private static string Describe(JsonNode item) =>
        $"{item["kind"]}:{(string?)item["field"] ?? (string?)item["orderId"]?.ToString() ?? (string?)item["noteId"]?.ToString()}";

    [Fact]
    public async Task OrdersNotesAndChangesAreMergedNewestFirst()
    {
        var (id, orders, noteId) = await ACustomerWithAHistoryAsync();

        var timeline = await TimelineAsync(id);

        var items = timeline["items"]!.AsArray().Select(i => i!).ToList();
        // The third order's sync changed statistics and category in the same instant as the order,
        // the second order's sync the statistics as the customer was created: what a write caused
        // is listed above the write, a change above the creation.
        Assert.Equal(
            ["change:statistics", "change:category", $"order:{orders[2]}", "change:city", $"note:{noteId}",
             "change:statistics", "created:created", $"order:{orders[1]}", $"order:{orders[0]}"],
            items.Select(Describe));
        Assert.Equal((9, true), ((int)timeline["totalCount"]!, (bool)timeline["totalCountExact"]!));
        var times = items.Select(i => (DateTime)i["at"]!).ToList();
        Assert.Equal(times.OrderByDescending(t => t), times);

        var order = items[2];
        Assert.Equal(("api", "order #" + orders[2] + ": 300.00, completed"), ((string)order["source"]!, (string)order["text"]!));
        Assert.Equal(factory.Clock.GetUtcNow().UtcDateTime, (DateTime)order["at"]!);
        var note = items[4];
        Assert.Equal((TestKeys.Admin.Name, "Prefers evening delivery"), ((string)note["source"]!, (string)note["text"]!));
        var city = items[3];
        Assert.Equal(("api:" + TestKeys.Admin.Name, "", "Казань"), ((string)city["source"]!, (string)city["from"]!, (string)city["to"]!));
        Assert.Equal("statistics: 1 order, 1000.00 spent → 2 orders, 3000.50 spent", (string)items[5]["text"]!);
        var created = items[6];
        Assert.Equal(("sync:auto", "Ольга Смирнова", "new"), ((string)created["source"]!, (string)created["to"]!["name"]!, (string)created["to"]!["category"]!));
        var statistics = items[0];
        Assert.Equal("statistics: 2 orders, 3000.50 spent → 3 orders, 3300.50 spent", (string)statistics["text"]!);
        Assert.Equal(3, (int)statistics["to"]!["totalOrders"]!);
        Assert.Null(statistics["reason"]);
    }

    [Fact]
    public async Task ACategoryChangeCarriesItsRuleAndExplanation()
    {
        var (id, _, _) = await ACustomerWithAHistoryAsync();

        var category = (await TimelineAsync(id))["items"]!.AsArray().Single(i => (string?)i!["field"] == "category")!;

        Assert.Equal(("new", "regular"), ((string)category["from"]!, (string)category["to"]!));
        Assert.Equal("regular", (string)category["reason"]!["rule"]!);
        Assert.Equal("regular: 3 completed orders ≥ 3", (string)category["reason"]!["text"]!);
        Assert.Equal("category new → regular: 3 completed orders ≥ 3", (string)category["text"]!);
        Assert.Equal("sync:auto", (string)category["source"]!);
        Assert.NotNull(category["runId"]);
    }

    [Fact]
    public async Task PagesFollowOneAnotherWithoutGapsOrRepeats()
    {
        var (id, _, _) = await ACustomerWithAHistoryAsync();
        var all = (await TimelineAsync(id))["items"]!.AsArray().Select(i => i!.ToJsonString()).ToList();

        var paged = new List<string>();
        for (var page = 1; page <= 3; page++)
        {
            var body = await TimelineAsync(id, $"?page={page}&pageSize=3");
            Assert.Equal((page, 3, 9), ((int)body["page"]!, (int)body["pageSize"]!, (int)body["totalCount"]!));
            paged.AddRange(body["items"]!.AsArray().Select(i => i!.ToJsonString()));
        }

        Assert.Equal(all, paged);
        Assert.Empty((await TimelineAsync(id, "?page=4&pageSize=3"))["items"]!.AsArray());
        Assert.Equal(9, (int)(await TimelineAsync(id, "?count=exact"))["totalCount"]!);
    }

    [Fact]
    public async Task AnUnknownCustomerHasNoTimeline() =>
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync("/api/customers/987654321/timeline")).StatusCode);

    [Theory]
    [InlineData("/api/customers/abc/timeline", "id")]
    [InlineData("/api/customers/1/timeline?page=0", "page")]
    [InlineData("/api/customers/1/timeline?pageSize=1000", "pageSize")]
    [InlineData("/api/customers/1/timeline?count=all", "count")]
    public async Task BadPagingIsAProblemNamingTheField(string url, string field) =>
        await (await _client.GetAsync(url)).AssertValidationErrorAsync(field);
}
