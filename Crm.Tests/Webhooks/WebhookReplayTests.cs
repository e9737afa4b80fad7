using System.Net;
using System.Net.Http.Json;
using Crm.Tests.Infrastructure;

namespace Crm.Tests.Webhooks;

// POST /api/webhooks/{id}/replay: the events of a window or of a sync run again, in the
// messages they went out in (same webhook-id, same body), to a real receiver.
public class WebhookReplayTests(WebhookReplayTests.Factory factory) : IClassFixture<WebhookReplayTests.Factory>
{
    public sealed class Factory : WebhookCrmApiFactory
    {
        protected override IEnumerable<(string Key, string Value)> Settings => [("Crm:Webhooks:MaxEventsPerMessage", "4")];
    }

    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task ReplayingAWindowSendsItsMessagesAgainAsTheyWere()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var subscription = await _client.SubscribeAsync(receiver, "customer.created");
        var from = DateTimeOffset.UtcNow.AddSeconds(-1);
        await factory.ExecuteAsync("""
            INSERT INTO customers (name, phone, category, category_rule, total_orders, total_spent, average_order,
                                   last_order_date, created_at, updated_at)
            SELECT 'Повтор ' || i, '+7993' || lpad(i::text, 7, '0'), 'new', 'new', 0, 0, 0, NULL, now(), now()
            FROM generate_series(1, 10) AS i
            """);
        await receiver.EventsAsync(e => e.Count >= 10, "the first delivery");
        var first = receiver.Received.ToList();
        var to = DateTimeOffset.UtcNow.AddSeconds(1);

        var response = await _client.PostAsJsonAsync($"/api/webhooks/{subscription.Id}/replay", new { from, to });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var jobId = (string)(await response.ReadJsonAsync())["jobId"]!;
        var job = await _client.JobAsync(jobId);

        Assert.Equal(10, (int)job["result"]!["events"]!);
        Assert.Equal(first.Count, (int)job["result"]!["messages"]!);
        var again = receiver.Received.Skip(first.Count).ToList();
        Assert.Equal(first.Select(r => (r.WebhookId, r.Body)).Order(), again.Select(r => (r.WebhookId, r.Body)).Order());
        Assert.All(again, r => Assert.NotEmpty(r.VerifiedBy));
        // A receiver deduping on webhook-id sees each event once.
        Assert.Equal(10, receiver.DistinctEvents().Count);

        // A window before any event sends nothing.
        var empty = await _client.PostAsJsonAsync($"/api/webhooks/{subscription.Id}/replay",
            new { from = from.AddDays(-2), to = from.AddDays(-1) });
        var nothing = await _client.JobAsync((string)(await empty.ReadJsonAsync())["jobId"]!);
        Assert.Equal(0, (int)nothing["result"]!["messages"]!);
        await _client.DeleteAsync($"/api/webhooks/{subscription.Id}");
    }

    [Fact]
    public async Task ReplayingASyncRunSendsItsEventsAgain()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var subscription = await _client.SubscribeAsync(receiver, "sync.completed");
        var runId = await _client.FullSyncRunAsync("force");
        await receiver.EventsAsync(e => e.Any(x => (long?)x["data"]!["runId"] == runId), "sync.completed");
        var original = receiver.Received.Single(r => r.Events.Any(x => (long?)x!["data"]!["runId"] == runId));

        var response = await _client.PostAsJsonAsync($"/api/webhooks/{subscription.Id}/replay", new { runId });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var job = await _client.JobAsync((string)(await response.ReadJsonAsync())["jobId"]!);

        Assert.Equal(1, (int)job["result"]!["events"]!);
        var again = Assert.Single(receiver.Received, r => r.WebhookId == original.WebhookId && !ReferenceEquals(r, original));
        Assert.Equal(original.Body, again.Body);
        await _client.DeleteAsync($"/api/webhooks/{subscription.Id}");
    }

    [Fact]
    public async Task BadReplaysAreProblemsNamingTheField()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var subscription = await _client.SubscribeAsync(receiver, "*");
        var url = $"/api/webhooks/{subscription.Id}/replay";
        var now = DateTimeOffset.UtcNow;

        await (await _client.PostAsJsonAsync(url, new { })).AssertValidationErrorAsync("body");
        await (await _client.PostAsJsonAsync(url, new { from = now, to = now, runId = 1 })).AssertValidationErrorAsync("from");
        await (await _client.PostAsJsonAsync(url, new { from = now })).AssertValidationErrorAsync("to");
        await (await _client.PostAsJsonAsync(url, new { from = now, to = now.AddHours(-1) })).AssertValidationErrorAsync("from");
        await (await _client.PostAsJsonAsync(url, new { runId = 0 })).AssertValidationErrorAsync("runId");
        await (await _client.PostRawAsync(url, """{"from": "yesterday", "to": "today"}""")).AssertProblemAsync(HttpStatusCode.BadRequest);

        var unknownRun = await (await _client.PostAsJsonAsync(url, new { runId = 987_654 })).AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Contains("runId", (string?)unknownRun["detail"]);
        await (await _client.PostAsJsonAsync("/api/webhooks/987654/replay", new { runId = 1 })).AssertProblemAsync(HttpStatusCode.NotFound);

        foreach (var key in new[] { TestKeys.Reader, TestKeys.Operator })
            await (await factory.CreateClient(key).PostAsJsonAsync(url, new { from = now, to = now }))
                .AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await factory.CreateClient(key: null).PostAsJsonAsync(url, new { from = now, to = now }))
            .AssertProblemAsync(HttpStatusCode.Unauthorized);
        await _client.DeleteAsync($"/api/webhooks/{subscription.Id}");
    }
}
