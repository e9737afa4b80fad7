using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Crm.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Crm.Tests.Webhooks;

// Events from real changes to a real receiver (Kestrel on loopback), every request verified
// with the StandardWebhooks library.
public class WebhookDeliveryTests(WebhookDeliveryTests.Factory factory) : IClassFixture<WebhookDeliveryTests.Factory>
{
    // Small messages, so a few dozen events span several of them.
    public sealed class Factory : WebhookCrmApiFactory
    {
        protected override IEnumerable<(string Key, string Value)> Settings => [("Crm:Webhooks:MaxEventsPerMessage", "7")];
    }

    private readonly HttpClient _client = factory.CreateClient();

    private static void AssertVerified(WebhookReceiver receiver)
    {
        Assert.NotEmpty(receiver.Received);
        Assert.All(receiver.Received, r => Assert.NotEmpty(r.VerifiedBy));
    }

    [Fact]
    public async Task ACustomerCrossingIntoVipSendsCategoryChangedWithItsReason()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var subscription = await _client.SubscribeAsync(receiver, "customer.category_changed");
        var phone = TestPhones.New();

        await _client.OrderAsync(phone, 500m);
        await _client.OrderAsync(phone, 150_000m);

        var events = await receiver.EventsAsync(
            e => e.Any(x => (string?)x["data"]!["phone"] == phone && (string?)x["data"]!["to"] == "vip"), "the VIP event");
        var vip = events.Single(x => (string?)x["data"]!["phone"] == phone);
        Assert.Equal("customer.category_changed", (string?)vip["type"]);
        Assert.Equal("new", (string?)vip["data"]!["from"]);
        Assert.Equal("vipBySpent", (string?)vip["data"]!["reason"]!["rule"]);
        Assert.Equal(100_000m, (decimal)vip["data"]!["reason"]!["thresholds"]!["vipMinSpent"]!);
        Assert.StartsWith("evt_", (string?)vip["id"]);
        Assert.NotNull((string?)vip["occurredAt"]);
        AssertVerified(receiver);
        Assert.All(receiver.Received, r => Assert.StartsWith("msg_", r.WebhookId));

        // The delivery is on record.
        var deliveries = await _client.DeliveriesAsync(subscription.Id);
        Assert.Contains(deliveries, d => (string?)d!["state"] == "delivered" && (int?)d["responseStatus"] == 200);
        await _client.DeleteAsync($"/api/webhooks/{subscription.Id}");
    }

    [Fact]
    public async Task AReceiverAnswering500GetsTheSameWebhookIdAndBodyAgain()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var failures = 1;
        receiver.Answer = (_, _) => Task.FromResult(Interlocked.Decrement(ref failures) >= 0 ? 500 : 204);
        var subscription = await _client.SubscribeAsync(receiver, "*");

        var test = await (await _client.PostAsync($"/api/webhooks/{subscription.Id}/test", null)).ReadJsonAsync();
        await _client.JobAsync((string)test["jobId"]!);

        Assert.Equal(2, receiver.Received.Count);
        Assert.Equal(receiver.Received[0].WebhookId, receiver.Received[1].WebhookId);
        Assert.Equal(receiver.Received[0].Body, receiver.Received[1].Body);
        Assert.Equal("webhook.test", (string?)receiver.Received[1].Events.Single()!["type"]);
        Assert.Equal((string?)test["eventId"], (string?)receiver.Received[1].Events.Single()!["id"]);
        AssertVerified(receiver);

        var deliveries = await _client.DeliveriesAsync(subscription.Id);
        Assert.Equal(["delivered", "failed"], deliveries.Select(d => (string)d!["state"]!));
        Assert.Equal([2, 1], deliveries.Select(d => (int)d!["attempt"]!));
        Assert.Equal(500, (int?)deliveries[1]!["responseStatus"]);
        Assert.Equal("HTTP 500", (string?)deliveries[1]!["error"]);
        Assert.All(deliveries, d => Assert.Equal(receiver.Received[0].WebhookId, (string?)d!["messageId"]));

        // The failure cleared with the success.
        var got = await _client.GetAsync($"/api/webhooks/{subscription.Id}");
        Assert.True(got.IsSuccessStatusCode, await got.Content.ReadAsStringAsync());
        var hook = await got.ReadJsonAsync();
        Assert.Null((string?)hook["failingSince"]);
        Assert.Equal(0, (long)hook["pendingEvents"]!);
        await _client.DeleteAsync($"/api/webhooks/{subscription.Id}");
    }

    [Fact]
    public async Task EventsOfOneSubscriptionArriveInTheOrderTheyHappened()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var subscription = await _client.SubscribeAsync(receiver, "customer.updated");
        var phone = TestPhones.New();
        await _client.OrderAsync(phone, 100m);
        var customerId = await CustomerIdAsync(phone);

        var names = Enumerable.Range(1, 30).Select(i => $"Имя {i:00}").ToList();
        foreach (var name in names)
            Assert.Equal(HttpStatusCode.OK, (await _client.PatchAsJsonAsync($"/api/customers/{customerId}", new { name })).StatusCode);

        var events = await receiver.EventsAsync(e => e.Count(Mine) == names.Count, "30 updates", TimeSpan.FromMinutes(2));
        bool Mine(JsonNode e) => (long)e["data"]!["customerId"]! == customerId;
        Assert.Equal(names, events.Where(Mine).Select(e => (string)e["data"]!["changes"]!["name"]!["to"]!));
        Assert.Equal(["Вебхук Тестов", .. names[..^1]], events.Where(Mine).Select(e => (string)e["data"]!["changes"]!["name"]!["from"]!));
        // Event ids only grow, across messages of at most 7 events.
        var ids = events.Select(e => long.Parse(((string)e["id"]!)["evt_".Length..])).ToList();
        Assert.Equal(ids.Order(), ids);
        Assert.True(receiver.Received.Count >= 5, $"{receiver.Received.Count} messages");
        Assert.All(receiver.Received, r => Assert.InRange(r.Events.Count, 1, 7));
        AssertVerified(receiver);
        await _client.DeleteAsync($"/api/webhooks/{subscription.Id}");
    }

    [Fact]
    public async Task ADisabledSubscriptionGetsNothing()
    {
        await using var disabled = await WebhookReceiver.StartAsync();
        await using var enabled = await WebhookReceiver.StartAsync();
        var off = await _client.SubscribeAsync(disabled, "*");
        var on = await _client.SubscribeAsync(enabled, "customer.created");
        var patched = await _client.PatchAsJsonAsync($"/api/webhooks/{off.Id}", new { enabled = false });
        Assert.False((bool)(await patched.ReadJsonAsync())["enabled"]!);

        var phone = TestPhones.New();
        await _client.OrderAsync(phone, 100m);
        await enabled.EventsAsync(e => e.Any(x => (string?)x["data"]!["phone"] == phone), "the created event");

        Assert.Empty(disabled.Received);
        await using var db = factory.CreateDbContext();
        Assert.Equal(0, await db.WebhookEvents.CountAsync(e => e.WebhookId == off.Id));
        Assert.Equal(HttpStatusCode.Conflict, (await _client.PostAsync($"/api/webhooks/{off.Id}/test", null)).StatusCode);
        await _client.DeleteAsync($"/api/webhooks/{off.Id}");
        await _client.DeleteAsync($"/api/webhooks/{on.Id}");
    }

    [Fact]
    public async Task AfterARotationBothSecretsSignFor24Hours()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var subscription = await _client.SubscribeAsync(receiver, "*");
        var rotated = await (await _client.PostAsync($"/api/webhooks/{subscription.Id}/rotate-secret", null)).ReadJsonAsync();
        var newSecret = (string)rotated["secret"]!;
        Assert.NotEqual(subscription.Secret, newSecret);
        Assert.StartsWith("whsec_", newSecret);
        Assert.Equal(24, Convert.FromBase64String(newSecret["whsec_".Length..]).Length);
        receiver.Secrets.Add(newSecret);

        var test = await (await _client.PostAsync($"/api/webhooks/{subscription.Id}/test", null)).ReadJsonAsync();
        await _client.JobAsync((string)test["jobId"]!);

        var request = receiver.Received.Single();
        Assert.Equal(2, request.Signature.Split(' ').Length);
        Assert.Equal([subscription.Secret, newSecret], request.VerifiedBy);
        // The new secret's signature comes first.
        Assert.Equal(new StandardWebhooks.StandardWebhook(newSecret)
            .Sign(request.WebhookId, DateTimeOffset.FromUnixTimeSeconds(long.Parse(request.Timestamp)), request.Body),
            request.Signature.Split(' ')[0]);

        // StandardWebhooks 1.1.2's Verify reads only the first signature of the header: a receiver
        // still on the old secret checks each signature on its own (as WebhookReceiver does).
        var both = new Microsoft.AspNetCore.Http.HeaderDictionary
        {
            ["webhook-id"] = request.WebhookId, ["webhook-timestamp"] = request.Timestamp, ["webhook-signature"] = request.Signature,
        };
        new StandardWebhooks.StandardWebhook(newSecret).Verify(request.Body, both);
        Assert.Throws<StandardWebhooks.Diagnostics.WebhookVerificationException>(
            () => new StandardWebhooks.StandardWebhook(subscription.Secret).Verify(request.Body, both));

        // Never returned again.
        var all = await (await _client.GetAsync("/api/webhooks")).Content.ReadAsStringAsync();
        var one = await (await _client.GetAsync($"/api/webhooks/{subscription.Id}")).Content.ReadAsStringAsync();
        foreach (var text in new[] { all, one })
        {
            Assert.DoesNotContain(subscription.Secret, text);
            Assert.DoesNotContain(newSecret, text);
        }
        await _client.DeleteAsync($"/api/webhooks/{subscription.Id}");
    }

    [Fact]
    public async Task AFullSyncSendsSyncCompleted()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var subscription = await _client.SubscribeAsync(receiver, "sync.completed", "sync.failed");
        var runId = await _client.FullSyncRunAsync("force");

        var events = await receiver.EventsAsync(e => e.Any(x => (long?)x["data"]!["runId"] == runId), "sync.completed");
        var completed = events.Single(x => (long?)x["data"]!["runId"] == runId);
        Assert.Equal("sync.completed", (string?)completed["type"]);
        Assert.Equal("force", (string?)completed["data"]!["mode"]);
        Assert.Equal("succeeded", (string?)completed["data"]!["status"]);

        // A dry run changes nothing and tells nobody.
        var dryJob = (string)(await (await _client.PostAsJsonAsync("/api/sync", new { mode = "force", dryRun = true })).ReadJsonAsync())["jobId"]!;
        await _client.JobAsync(dryJob);
        var dryRunId = await _client.RunOfJobAsync(dryJob);
        await using var db = factory.CreateDbContext();
        Assert.Equal(0, await db.Database.SqlQuery<int>(
            $"SELECT count(*)::int AS \"Value\" FROM webhook_events WHERE webhook_id = {subscription.Id} AND data->>'runId' = {dryRunId.ToString()}")
            .SingleAsync());
        await _client.DeleteAsync($"/api/webhooks/{subscription.Id}");
    }

    [Fact]
    public async Task ASlowReceiverDelaysNeitherAnotherSubscriptionNorTheSyncs()
    {
        await using var slow = await WebhookReceiver.StartAsync();
        await using var quick = await WebhookReceiver.StartAsync();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        slow.Answer = async (_, _) =>
        {
            await release.Task;
            return 200;
        };
        var held = await _client.SubscribeAsync(slow, "customer.created");
        var served = await _client.SubscribeAsync(quick, "customer.created");
        try
        {
            var first = TestPhones.New();
            await _client.OrderAsync(first, 100m);
            await Waiting.UntilAsync(() => Task.FromResult(slow.Received.Count), n => n > 0, "the slow receiver to hold a request");

            // While the slow receiver holds its delivery: the other subscription is served, and
            // order writes and a full sync run.
            var second = TestPhones.New();
            await _client.OrderAsync(second, 100m);
            await quick.EventsAsync(e => e.Any(x => (string?)x["data"]!["phone"] == second), "the quick receiver's events");
            await _client.FullSyncRunAsync("default");
            // The slow one saw only its first message (again, if its 10 s ran out meanwhile).
            Assert.All(slow.Received, r => Assert.Equal(slow.Received[0].WebhookId, r.WebhookId));
        }
        finally
        {
            release.SetResult();
        }
        await slow.EventsAsync(e => e.Count >= 2, "the slow receiver to get the rest once it answers");
        await _client.DeleteAsync($"/api/webhooks/{held.Id}");
        await _client.DeleteAsync($"/api/webhooks/{served.Id}");
    }

    private async Task<long> CustomerIdAsync(string phone)
    {
        await using var db = factory.CreateDbContext();
        return await db.Customers.Where(c => c.Phone == phone).Select(c => c.Id).SingleAsync();
    }
}
