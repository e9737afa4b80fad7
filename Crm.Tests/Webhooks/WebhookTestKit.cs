using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Crm.Tests.Infrastructure;

namespace Crm.Tests.Webhooks;

public static class WebhookTestKit
{
    public static async Task<Subscription> SubscribeAsync(this HttpClient client, WebhookReceiver receiver, params string[] events)
    {
        var response = await client.PostAsJsonAsync("/api/webhooks", new { url = receiver.Url, events, description = "test receiver" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.ReadJsonAsync();
        var subscription = new Subscription((long)created["id"]!, (string)created["secret"]!);
        receiver.Secrets.Add(subscription.Secret);
        return subscription;
    }

    // An order through the API, its customer's sync awaited.
    public static async Task<JsonNode> OrderAsync(this HttpClient client, string phone, decimal amount, string name = "Вебхук Тестов")
    {
        var order = await (await client.PostAsJsonAsync("/api/orders", new
        {
            customerName = name, customerPhone = phone, totalAmount = amount, status = "completed",
        })).ReadJsonAsync();
        await client.JobAsync((string)order["syncJobId"]!);
        return order;
    }

    // The events the receiver got (each message once), once `done` holds for them.
    public static Task<List<JsonNode>> EventsAsync(this WebhookReceiver receiver, Func<List<JsonNode>, bool> done, string what,
        TimeSpan? timeout = null) =>
        Waiting.UntilAsync(() => Task.FromResult(receiver.DistinctEvents()), done, what, timeout);

    public static async Task<JsonArray> DeliveriesAsync(this HttpClient client, long webhookId) =>
        (await (await client.GetAsync($"/api/webhooks/{webhookId}/deliveries?pageSize=200")).ReadJsonAsync())["items"]!.AsArray();
}
