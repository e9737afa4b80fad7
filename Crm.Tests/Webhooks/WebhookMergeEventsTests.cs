using System.Net;
using System.Net.Http.Json;
using Crm.Tests.Infrastructure;

namespace Crm.Tests.Webhooks;

// customer.merged and customer.unmerged reach a real receiver, naming the merge's customers
// and nothing personal.
public class WebhookMergeEventsTests(WebhookCrmApiFactory factory) : IClassFixture<WebhookCrmApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task AMergeAndItsUnmergeAreHeardWithTheirCustomers()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await _client.SubscribeAsync(receiver, "customer.merged", "customer.unmerged");
        var (first, second) = (TestPhones.New(), TestPhones.New());
        await _client.OrderAsync(first, 100m);
        await _client.OrderAsync(second, 100m);
        var a = (long)(await _client.CustomerByPhoneAsync(first))!["id"]!;
        var b = (long)(await _client.CustomerByPhoneAsync(second))!["id"]!;

        var merge = await _client.AcceptedJobAsync(
            await _client.PostAsJsonAsync("/api/customers/merge", new { targetId = a, sourceIds = new[] { b } }));
        var mergeId = (long)merge["mergeId"]!;
        await _client.AcceptedJobAsync(await _client.PostAsync($"/api/customers/merges/{mergeId}/unmerge", null));

        var events = await receiver.EventsAsync(e => e.Count(x => (long?)x["data"]!["mergeId"] == mergeId) == 2, "both events");
        var mine = events.Where(x => (long?)x["data"]!["mergeId"] == mergeId).ToList();
        Assert.Equal(["customer.merged", "customer.unmerged"], mine.Select(x => (string)x["type"]!));
        foreach (var e in mine)
        {
            Assert.Equal((a, a), ((long)e["data"]!["customerId"]!, (long)e["data"]!["targetId"]!));
            Assert.Equal([b], e["data"]!["sourceIds"]!.AsArray().Select(v => (long)v!));
            Assert.DoesNotContain(first, e.ToJsonString());
            Assert.DoesNotContain(second, e.ToJsonString());
        }
    }
}
