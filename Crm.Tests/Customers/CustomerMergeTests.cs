using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Crm.Tests.Infrastructure;

namespace Crm.Tests.Customers;

// POST /api/customers/merge and POST /api/customers/merges/{id}/unmerge: two halves of one
// person become one customer with every phone, note and order, and come apart again exactly.
public class CustomerMergeTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private async Task<JsonNode> CustomerAsync(long id) => await (await _client.GetAsync($"/api/customers/{id}")).ReadJsonAsync();

    // A customer and its notes as a client reads them, without updatedAt (a merge and an unmerge touch it).
    private async Task<string> ReadAsync(long id)
    {
        var customer = (await CustomerAsync(id)).AsObject();
        customer.Remove("updatedAt");
        var notes = await (await _client.GetAsync($"/api/customers/{id}/notes")).ReadJsonAsync();
        return customer.ToJsonString() + "\n" + notes.ToJsonString();
    }

    private static string WithoutStatistics(string read)
    {
        var lines = read.Split('\n');
        var customer = JsonNode.Parse(lines[0])!.AsObject();
        foreach (var field in new[] { "totalOrders", "totalSpent", "averageOrder", "lastOrderDate", "category", "categoryReason" })
            customer.Remove(field);
        return customer.ToJsonString() + "\n" + lines[1];
    }

    private async Task<JsonNode> MergeAsync(long target, params long[] sources) =>
        await _client.AcceptedJobAsync(await _client.PostAsJsonAsync("/api/customers/merge", new { targetId = target, sourceIds = sources }));

    private async Task<JsonNode> UnmergeAsync(long mergeId) =>
        await _client.AcceptedJobAsync(await _client.PostAsync($"/api/customers/merges/{mergeId}/unmerge", null));

    [Fact]
    public async Task TwoHalvesBecomeOneCustomerWithEveryPhoneNoteAndOrderAndComeApartExactly()
    {
        var (first, second, third) = (TestPhones.New(), TestPhones.New(), TestPhones.New());
        var target = await _client.CustomerWithOrdersAsync(first, 3, 20_000m, new { email = "", city = "Казань" });
        var source = await _client.CustomerWithOrdersAsync(second, 3, 20_000m, new { email = "half@example.com", city = "Самара", notes = "звонить вечером" });
        Assert.Equal(HttpStatusCode.Created, (await _client.PostAsJsonAsync($"/api/customers/{source}/phones", new { phone = third })).StatusCode);
        await _client.PostCompletedOrderAsync(third, 30_000m);
        await Waiting.UntilAsync(() => CustomerAsync(source), c => (int)c["totalOrders"]! == 4, "the source's third phone counted");
        Assert.Equal(HttpStatusCode.Created, (await _client.PostAsJsonAsync($"/api/customers/{source}/notes", new { note = "VIP-кандидат" })).StatusCode);
        var (targetBefore, sourceBefore) = (await ReadAsync(target), await ReadAsync(source));
        var preview = await (await _client.PostAsJsonAsync("/api/customers/merge/preview", new { targetId = target, sourceIds = new[] { source } })).ReadJsonAsync();

        var accepted = await MergeAsync(target, source);

        var mergeId = (long)accepted["mergeId"]!;
        Assert.Equal($"/api/jobs/{accepted["jobId"]}", (string)accepted["statusUrl"]!);
        // The merged customer is what the preview said.
        var merged = await CustomerAsync(target);
        Assert.Equal([first, second, third], merged["phones"]!.AsArray().Select(p => (string)p!));
        foreach (var field in new[] { "totalOrders", "totalSpent", "averageOrder", "category" })
            Assert.Equal(preview[field]!.ToJsonString(), merged[field]!.ToJsonString());
        Assert.Equal("vip", (string)merged["category"]!);
        Assert.Equal("half@example.com", (string)merged["email"]!);
        Assert.Equal("Казань", (string)merged["city"]!);
        Assert.Equal("звонить вечером", (string)merged["notes"]!);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/api/customers/{source}")).StatusCode);
        var notes = await (await _client.GetAsync($"/api/customers/{target}/notes")).ReadJsonAsync();
        Assert.Equal("VIP-кандидат", (string)Assert.Single(notes.AsArray())!["note"]!);
        var listed = (await (await _client.GetAsync("/api/customers/merges")).ReadJsonAsync())["items"]!.AsArray();
        var entry = listed.Single(m => (long)m!["mergeId"]! == mergeId)!;
        Assert.Equal(target, (long)entry["targetId"]!);
        Assert.Equal([source], entry["sourceIds"]!.AsArray().Select(v => (long)v!));
        Assert.Null(entry["unmergedAt"]);

        // An order for a source's phone counts for the target, and no sync mode splits it again.
        await _client.PostCompletedOrderAsync(second, 1_000m);
        await Waiting.UntilAsync(() => CustomerAsync(target), c => (int)c["totalOrders"]! == 8, "the new order counted for the target");
        foreach (var mode in new[] { "force", "default", "statsOnly" })
            await _client.FullSyncRunAsync(mode);
        Assert.Null(await _client.CustomerByPhoneAsync(second));
        Assert.Equal(8, (int)(await CustomerAsync(target))["totalOrders"]!);

        await UnmergeAsync(mergeId);

        // The target is as it was; the source is back with its id, fields, phones and notes, and
        // with the order written to its phone since the merge (then it is as it was, too).
        Assert.Equal(targetBefore, await ReadAsync(target));
        var back = await CustomerAsync(source);
        Assert.Equal([second, third], back["phones"]!.AsArray().Select(p => (string)p!));
        Assert.Equal(5, (int)back["totalOrders"]!);
        Assert.Equal(WithoutStatistics(sourceBefore), WithoutStatistics(await ReadAsync(source)));
        entry = (await (await _client.GetAsync("/api/customers/merges")).ReadJsonAsync())["items"]!.AsArray()
            .Single(m => (long)m!["mergeId"]! == mergeId)!;
        Assert.NotNull(entry["unmergedAt"]);

        // The ledger tells both steps on the target's timeline.
        var timeline = await (await _client.GetAsync($"/api/customers/{target}/timeline?pageSize=100")).ReadJsonAsync();
        var summaries = timeline["items"]!.AsArray().Select(i => (string)i!["text"]!).ToList();
        Assert.Contains($"merged: customers {source} into this one (merge {mergeId})", summaries);
        Assert.Contains($"unmerged: customers {source} back (merge {mergeId})", summaries);
    }

    [Fact]
    public async Task BadMergesAreRefusedAndWriteNothing()
    {
        var a = await _client.CustomerWithOrdersAsync(TestPhones.New(), 1, 10m);
        var b = await _client.CustomerWithOrdersAsync(TestPhones.New(), 1, 10m);
        var c = await _client.CustomerWithOrdersAsync(TestPhones.New(), 1, 10m);
        Task<HttpResponseMessage> Merge(object body) => _client.PostAsJsonAsync("/api/customers/merge", body);

        await (await Merge(new { targetId = a, sourceIds = new[] { a } })).AssertValidationErrorAsync("sourceIds");
        await (await Merge(new { targetId = a, sourceIds = Array.Empty<long>() })).AssertValidationErrorAsync("sourceIds");
        var missing = await (await Merge(new { targetId = a, sourceIds = new[] { b, 987654321L } })).AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal([987654321L], missing["missingIds"]!.AsArray().Select(v => (long)v!));
        Assert.NotNull(await _client.CustomerByPhoneAsync((string)(await CustomerAsync(b))["phone"]!));
        Assert.Equal(HttpStatusCode.Unauthorized,
            (await factory.CreateClient(key: null).PostAsJsonAsync("/api/customers/merge", new { targetId = a, sourceIds = new[] { b } })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden,
            (await factory.CreateClient(TestKeys.Reader).PostAsJsonAsync("/api/customers/merge", new { targetId = a, sourceIds = new[] { b } })).StatusCode);

        var mergeId = (long)(await MergeAsync(a, b))["mergeId"]!;

        // A source merged already: 409 naming where it went.
        var again = await (await Merge(new { targetId = c, sourceIds = new[] { b } })).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal((b, mergeId, a), ((long)again["customerId"]!, (long)again["mergeId"]!, (long)again["targetId"]!));
        // Undoing is for admins; a later merge of the same customers must be undone first.
        Assert.Equal(HttpStatusCode.Forbidden,
            (await factory.CreateClient(TestKeys.Operator).PostAsync($"/api/customers/merges/{mergeId}/unmerge", null)).StatusCode);
        var later = (long)(await MergeAsync(c, a))["mergeId"]!;
        var blocked = await (await _client.PostAsync($"/api/customers/merges/{mergeId}/unmerge", null)).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal(later, (long)blocked["laterMergeId"]!);
        await UnmergeAsync(later);
        await UnmergeAsync(mergeId);
        await (await _client.PostAsync($"/api/customers/merges/{mergeId}/unmerge", null)).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.PostAsync("/api/customers/merges/987654321/unmerge", null)).StatusCode);
        foreach (var id in new[] { a, b, c })
            Assert.Equal(1, (int)(await CustomerAsync(id))["totalOrders"]!);
    }

    [Fact]
    public async Task TwoMergesOfOneCustomerAtOnceAreSerialisedNeverHalfDone()
    {
        for (var round = 0; round < 5; round++)
        {
            var a = await _client.CustomerWithOrdersAsync(TestPhones.New(), 1, 10m);
            var b = await _client.CustomerWithOrdersAsync(TestPhones.New(), 1, 10m);
            var c = await _client.CustomerWithOrdersAsync(TestPhones.New(), 1, 10m);

            // Both want b: one merges it, the other finds it merged away.
            var answers = await Task.WhenAll(
                _client.PostAsJsonAsync("/api/customers/merge", new { targetId = a, sourceIds = new[] { b } }),
                _client.PostAsJsonAsync("/api/customers/merge", new { targetId = c, sourceIds = new[] { b } }));

            Assert.Equal([HttpStatusCode.Accepted, HttpStatusCode.Conflict], answers.Select(r => r.StatusCode).Order());
            var winner = answers[0].StatusCode == HttpStatusCode.Accepted ? a : c;
            await _client.JobAsync((string)(await answers.Single(r => r.StatusCode == HttpStatusCode.Accepted).ReadJsonAsync())["jobId"]!);
            Assert.Equal(2, (int)(await CustomerAsync(winner))["totalOrders"]!);
            Assert.Equal(1, (int)(await CustomerAsync(winner == a ? c : a))["totalOrders"]!);
        }
    }
}
