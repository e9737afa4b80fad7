using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Crm.Tests.Infrastructure;

namespace Crm.Tests.Customers;

// One person, several phones: the orders of every phone of a customer count for it, no sync
// mode splits it again, and a phone taken away forms a customer of its own.
public class CustomerPhonesTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private async Task<long> CustomerWithAnOrderAsync(string phone, decimal amount)
    {
        await _client.PostCompletedOrderAsync(phone, amount);
        var customer = await Waiting.UntilAsync(() => _client.CustomerByPhoneAsync(phone), c => c is not null, "the customer");
        return (long)customer!["id"]!;
    }

    private async Task<JsonNode> CustomerAsync(long id) => await (await _client.GetAsync($"/api/customers/{id}")).ReadJsonAsync();

    private Task<JsonNode> CustomerUntilAsync(long id, decimal spent, int orders) =>
        Waiting.UntilAsync(() => CustomerAsync(id), c => (decimal)c["totalSpent"]! == spent && (int)c["totalOrders"]! == orders,
            $"customer {id} at {spent} over {orders} orders");

    private static string[] Phones(JsonNode node) => node["phones"]!.AsArray().Select(p => (string)p!).ToArray();

    private async Task<JsonNode> AddPhoneAsync(long id, string phone, HttpStatusCode expected = HttpStatusCode.Created)
    {
        var response = await _client.PostAsJsonAsync($"/api/customers/{id}/phones", new { phone });
        Assert.True(expected == response.StatusCode, await response.Content.ReadAsStringAsync());
        return await response.ReadJsonAsync();
    }

    private async Task FullSyncAsync(string mode)
    {
        var sync = await (await _client.PostAsync("/api/sync", JsonContent.Create(new { mode }))).ReadJsonAsync();
        await _client.JobAsync((string)sync["jobId"]!);
    }

    [Fact]
    public async Task TheOrdersOfEveryPhoneCountForTheCustomerThroughEverySyncModeUntilThePhoneIsRemoved()
    {
        var (primary, other) = (TestPhones.New(), TestPhones.New());
        var id = await CustomerWithAnOrderAsync(primary, 100m);

        var added = await AddPhoneAsync(id, other);
        Assert.Equal([primary, other], Phones(added));
        await _client.JobAsync((string)added["syncJobId"]!);
        await _client.PostCompletedOrderAsync(other, 50m);
        await _client.PostCompletedOrderAsync(other, 25m);
        var customer = await CustomerUntilAsync(id, 175m, 3);
        Assert.Equal([primary, other], Phones(customer));
        Assert.Null(await _client.CustomerByPhoneAsync(other)); // no customer has it as its primary phone

        // Found by the other phone; its orders and timeline hold the orders of both.
        var found = await (await _client.GetAsync($"/api/customers?search={Uri.EscapeDataString(other)}")).ReadJsonAsync();
        Assert.Equal(id, (long)found["items"]!.AsArray().Single()!["id"]!);
        var orders = await (await _client.GetAsync($"/api/customers/{id}/orders")).ReadJsonAsync();
        Assert.Equal(3, (int)orders["totalCount"]!);
        var timeline = await (await _client.GetAsync($"/api/customers/{id}/timeline")).ReadJsonAsync();
        Assert.Equal(3, timeline["items"]!.AsArray().Count(i => (string)i!["kind"]! == "order"));

        foreach (var mode in new[] { "default", "force", "statsOnly" })
        {
            await FullSyncAsync(mode);
            await CustomerUntilAsync(id, 175m, 3);
            Assert.Null(await _client.CustomerByPhoneAsync(other));
        }

        // Removed: its orders form a customer of their own, and the first one counts its own again.
        var removed = await _client.DeleteAsync($"/api/customers/{id}/phones/{Uri.EscapeDataString(other)}");
        Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
        Assert.Equal([primary], Phones(await removed.ReadJsonAsync()));
        await CustomerUntilAsync(id, 100m, 1);
        var own = await Waiting.UntilAsync(() => _client.CustomerByPhoneAsync(other), c => c is not null, "the removed phone's customer");
        Assert.Equal(75m, (decimal)own!["totalSpent"]!);
    }

    [Fact]
    public async Task APhoneOfAnotherCustomerIsTakenWhicheverWayItIsAsked()
    {
        var (first, second, third) = (TestPhones.New(), TestPhones.New(), TestPhones.New());
        var a = await CustomerWithAnOrderAsync(first, 10m);
        var b = await CustomerWithAnOrderAsync(second, 20m);
        await AddPhoneAsync(a, third);

        // Another customer's primary phone, or its other phone: merge instead.
        var taken = await (await _client.PostAsJsonAsync($"/api/customers/{b}/phones", new { phone = first }))
            .AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal(a, (long)taken["existingId"]!);
        taken = await (await _client.PostAsJsonAsync($"/api/customers/{b}/phones", new { phone = third }))
            .AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal(a, (long)taken["existingId"]!);
        // A new customer or a changed phone that is someone's other phone.
        taken = await (await _client.PostAsJsonAsync("/api/customers", new { name = "Новый", phone = third }))
            .AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal(a, (long)taken["existingId"]!);
        taken = await (await _client.PatchJsonAsync($"/api/customers/{b}", new { phone = third })).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal(a, (long)taken["existingId"]!);
        Assert.Equal(second, (string)(await CustomerAsync(b))["phone"]!);

        // Its own phone again: nothing changes.
        var again = await AddPhoneAsync(a, third, HttpStatusCode.OK);
        Assert.Equal([first, third], Phones(again));
        Assert.Null((string?)again["syncJobId"]);
    }

    [Fact]
    public async Task ItsOtherPhoneBecomesThePrimaryOneAndThePreviousStaysItsOther()
    {
        var (primary, other) = (TestPhones.New(), TestPhones.New());
        var id = await CustomerWithAnOrderAsync(primary, 100m);
        await AddPhoneAsync(id, other);
        await _client.PostCompletedOrderAsync(other, 50m);
        await CustomerUntilAsync(id, 150m, 2);

        var patched = await _client.PatchJsonAsync($"/api/customers/{id}", new { phone = other });
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        var customer = await CustomerAsync(id);
        Assert.Equal(other, (string)customer["phone"]!);
        Assert.Equal([other, primary], Phones(customer));
        await FullSyncAsync("default");
        await CustomerUntilAsync(id, 150m, 2);
        Assert.Null(await _client.CustomerByPhoneAsync(primary));
    }

    [Fact]
    public async Task BadInputIsRefusedNamingWhatIsWrong()
    {
        var phone = TestPhones.New();
        var id = await CustomerWithAnOrderAsync(phone, 10m);

        await (await _client.PostAsJsonAsync($"/api/customers/{id}/phones", new { phone = "не телефон" })).AssertValidationErrorAsync("phone");
        await (await _client.PostAsJsonAsync($"/api/customers/{id}/phones", new { })).AssertValidationErrorAsync("phone");
        Assert.Equal(HttpStatusCode.NotFound,
            (await _client.PostAsJsonAsync("/api/customers/987654321/phones", new { phone = TestPhones.New() })).StatusCode);
        // The primary phone stays; a phone the customer does not have is not found.
        await (await _client.DeleteAsync($"/api/customers/{id}/phones/{Uri.EscapeDataString(phone)}")).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.DeleteAsync($"/api/customers/{id}/phones/{Uri.EscapeDataString(TestPhones.New())}")).StatusCode);
        Assert.Equal([phone], Phones(await CustomerAsync(id)));

        // 401 before anything is judged; a reader may list but not add; an operator may not remove.
        Assert.Equal(HttpStatusCode.Unauthorized,
            (await factory.CreateClient(key: null).PostAsJsonAsync($"/api/customers/{id}/phones", new { phone = "x" })).StatusCode);
        var reader = factory.CreateClient(TestKeys.Reader);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync($"/api/customers/{id}/phones")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostAsJsonAsync($"/api/customers/{id}/phones", new { phone = TestPhones.New() })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden,
            (await factory.CreateClient(TestKeys.Operator).DeleteAsync($"/api/customers/{id}/phones/{Uri.EscapeDataString(phone)}")).StatusCode);
    }
}
