using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Crm.Tests.Infrastructure;

namespace Crm.Tests.Customers;

// POST /api/customers/merge/preview: what merging two halves of one person would make — every
// phone, the statistics over all their orders, the category they earn together, the fields
// and where each comes from, the fields they disagree on — and nothing written.
public class MergePreviewTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private Task<HttpResponseMessage> PreviewAsync(object body) => _client.PostAsJsonAsync("/api/customers/merge/preview", body);

    private async Task<string> CustomerRowsAsync(params long[] ids) =>
        string.Join("\n", await Task.WhenAll(ids.Select(async id => await (await _client.GetAsync($"/api/customers/{id}")).Content.ReadAsStringAsync())));

    [Fact]
    public async Task TwoRegularHalvesOfOnePersonPreviewAsOneVipWithEveryPhoneAndTheirConflicts()
    {
        var (first, second, third) = (TestPhones.New(), TestPhones.New(), TestPhones.New());
        // Two "regular" halves (3 orders each) whose sum passes the VIP threshold on spending.
        var target = await _client.CustomerWithOrdersAsync(first, 3, 20_000m, new { email = "", city = "Казань" });
        var source = await _client.CustomerWithOrdersAsync(second, 3, 20_000m, new { email = "half@example.com", city = "Самара", address = "ул. Ленина, 1" });
        Assert.Equal(HttpStatusCode.Created, (await _client.PostAsJsonAsync($"/api/customers/{source}/phones", new { phone = third })).StatusCode);
        await _client.PostCompletedOrderAsync(third, 30_000m);
        await Waiting.UntilAsync(() => _client.GetAsync($"/api/customers/{source}").ContinueWith(t => t.Result.ReadJsonAsync()).Unwrap(),
            c => (int)c["totalOrders"]! == 4, "the source's third phone counted");
        var before = await CustomerRowsAsync(target, source);

        var response = await PreviewAsync(new { targetId = target, sourceIds = new[] { source } });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var preview = await response.ReadJsonAsync();
        Assert.Equal([first, second, third], preview["phones"]!.AsArray().Select(p => (string)p!));
        Assert.Equal(7, (int)preview["totalOrders"]!);
        Assert.Equal(150_000m, (decimal)preview["totalSpent"]!);
        Assert.Equal(21_428.57m, (decimal)preview["averageOrder"]!);
        Assert.Equal("vip", (string)preview["category"]!);
        Assert.Equal("vipBySpent", (string)preview["categoryReason"]!["rule"]!);
        // The target's city stays; its empty e-mail and address come from the source.
        Assert.Equal(("Казань", target), Field(preview, "city"));
        Assert.Equal(("half@example.com", source), Field(preview, "email"));
        Assert.Equal(("ул. Ленина, 1", source), Field(preview, "address"));
        var conflict = Assert.Single(preview["conflicts"]!.AsArray());
        Assert.Equal("city", (string)conflict!["field"]!);
        Assert.Equal([target, source], conflict["values"]!.AsArray().Select(v => (long)v!["customerId"]!));

        // Nothing written: both customers read as before.
        Assert.Equal(before, await CustomerRowsAsync(target, source));
    }

    private static (string, long?) Field(JsonNode preview, string name) =>
        ((string)preview[name]!["value"]!, (long?)preview[name]!["customerId"]);

    [Fact]
    public async Task BadRequestsAreRefusedNamingTheFieldOrTheMissingCustomer()
    {
        var a = await _client.CustomerWithOrdersAsync(TestPhones.New(), 1, 10m);
        var b = await _client.CustomerWithOrdersAsync(TestPhones.New(), 1, 10m);

        await (await PreviewAsync(new { targetId = a, sourceIds = new[] { a } })).AssertValidationErrorAsync("sourceIds");
        await (await PreviewAsync(new { targetId = a, sourceIds = new[] { b, b } })).AssertValidationErrorAsync("sourceIds");
        await (await PreviewAsync(new { targetId = a, sourceIds = Array.Empty<long>() })).AssertValidationErrorAsync("sourceIds");
        await (await PreviewAsync(new { sourceIds = new[] { b } })).AssertValidationErrorAsync("targetId");
        await (await PreviewAsync(new { targetId = a, sourceIds = Enumerable.Range(1, 21).Select(i => (long)i + b) })).AssertValidationErrorAsync("sourceIds");

        var missing = await (await PreviewAsync(new { targetId = a, sourceIds = new[] { b, 987654321L } })).AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal([987654321L], missing["missingIds"]!.AsArray().Select(v => (long)v!));
        Assert.Equal(HttpStatusCode.Unauthorized,
            (await factory.CreateClient(key: null).PostAsJsonAsync("/api/customers/merge/preview", new { targetId = a, sourceIds = new[] { b } })).StatusCode);
    }
}
