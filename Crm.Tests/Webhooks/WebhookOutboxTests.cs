using System.Net;
using System.Net.Http.Json;
using Crm.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Crm.Tests.Webhooks;

// The outbox: events written set-based in the transaction of the change, and a subscription
// that keeps failing is disabled.
public class WebhookOutboxTests(WebhookOutboxTests.Factory factory) : IClassFixture<WebhookOutboxTests.Factory>
{
    public sealed class Factory : WebhookCrmApiFactory
    {
        protected override IEnumerable<(string Key, string Value)> Settings =>
            [("Crm:Webhooks:DisableAfter", "00:00:02")];
    }

    private readonly HttpClient _client = factory.CreateClient();

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(factory.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    // One statement that moves 2 000 customers writes their 2 000 events with one call of the
    // trigger (one INSERT … SELECT), in its transaction, seen by nobody before the commit; the
    // recalculation job that moves them on does the same, and the receiver gets every event.
    [Fact]
    public async Task AStatementMovingThousandsOfCustomersWritesTheirEventsInOneInsertAtCommit()
    {
        const int Moved = 2_000;
        await factory.ExecuteAsync($"""
            INSERT INTO customers (name, phone, category, category_rule, total_orders, total_spent, average_order,
                                   last_order_date, created_at, updated_at)
            SELECT 'Пакет ' || i, '+7995' || lpad(i::text, 7, '0'), 'new', 'new', 12, 12000, 1000, now(), now(), now()
            FROM generate_series(1, {Moved}) AS i
            """);
        await using var receiver = await WebhookReceiver.StartAsync();
        var subscription = await _client.SubscribeAsync(receiver, "customer.category_changed");
        var mine = $"SELECT count(*) FROM webhook_events WHERE webhook_id = {subscription.Id}";

        await using (var connection = new NpgsqlConnection(factory.ConnectionString))
        {
            await connection.OpenAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            async Task<long> InTransactionAsync(string sql)
            {
                await using var command = new NpgsqlCommand(sql, connection, transaction);
                return Convert.ToInt64(await command.ExecuteScalarAsync());
            }
            await InTransactionAsync("SELECT count(*) FROM (SELECT set_config('track_functions', 'pl', true)) s");
            Assert.Equal(Moved, await InTransactionAsync(
                "WITH moved AS (UPDATE customers SET category = 'regular', category_rule = 'regular' WHERE phone LIKE '+7995%' RETURNING 1) " +
                "SELECT count(*) FROM moved"));
            Assert.Equal(Moved, await InTransactionAsync(mine));
            Assert.Equal(1, await InTransactionAsync(
                "SELECT calls FROM pg_stat_xact_user_functions WHERE funcname = 'crm_webhook_customer_events'"));
            Assert.Equal(0, await ScalarAsync<long>(mine));
            await transaction.CommitAsync();
        }

        var job = (string)(await (await _client.PostAsync("/api/categories/recalculate", null)).ReadJsonAsync())["jobId"]!;
        var result = await _client.JobAsync(job);
        Assert.Equal(Moved, (int)result["result"]!["changedCount"]!);

        var events = await receiver.EventsAsync(e => e.Count == 2 * Moved, $"{2 * Moved} events", TimeSpan.FromMinutes(2));
        Assert.Equal(Moved, events.Count(e => (string?)e["data"]!["to"] == "regular"));
        Assert.Equal(Moved, events.Count(e => (string?)e["data"]!["to"] == "vip" && (string?)e["data"]!["reason"]!["rule"] == "vipByOrders"));
        Assert.Equal(Moved, events.Select(e => (string)e["data"]!["phone"]!).Distinct().Count());
        // Full messages of 100 but the last of each lane (Crm:Webhooks:Lanes, 8).
        Assert.InRange(receiver.Received.Count, 2 * Moved / 100, 2 * Moved / 100 + 8);
        await _client.DeleteAsync($"/api/webhooks/{subscription.Id}");
    }

    // prune-webhooks: a delivered message past Crm:Webhooks:RetentionDays (30) goes with its
    // events and attempts, and so does one never delivered as old, the subscription being
    // disabled (WebhookPruneTests: an enabled one's stays); a newer one stays.
    [Fact]
    public async Task PruningDropsOldMessages()
    {
        await using var db = factory.CreateDbContext();
        var hook = new Crm.Jobs.Webhooks.Webhook
        {
            Url = "http://127.0.0.1:9/hook", Events = ["*"], Secret = "whsec_" + Convert.ToBase64String(new byte[24]),
            Enabled = false, CreatedAt = DateTime.UtcNow, UpdatedAt = DateTime.UtcNow,
        };
        db.Webhooks.Add(hook);
        await db.SaveChangesAsync();
        await factory.ExecuteAsync("""
            WITH m AS (
                INSERT INTO webhook_messages (webhook_id, message_id, body, event_count, first_occurred_at, created_at, attempts, delivered_at)
                VALUES (@id, 'msg_old', '{}', 1, now() - interval '41 days', now() - interval '41 days', 1, now() - interval '40 days'),
                       (@id, 'msg_recent', '{}', 1, now() - interval '3 days', now() - interval '3 days', 1, now() - interval '2 days'),
                       (@id, 'msg_undelivered', '{}', 1, now() - interval '90 days', now() - interval '90 days', 9, NULL)
                RETURNING id, delivered_at
            ), e AS (
                INSERT INTO webhook_events (webhook_id, type, occurred_at, data, message_id)
                SELECT @id, 'webhook.test', now(), '{}', id FROM m
            )
            INSERT INTO webhook_deliveries (webhook_id, message_id, events, attempt, state, duration_ms, at)
            SELECT @id, id, 1, 1, CASE WHEN delivered_at IS NULL THEN 'failed' ELSE 'delivered' END, 5, now() FROM m
            """, ("id", hook.Id));

        await using var scope = factory.Services.CreateAsyncScope();
        Assert.Equal(new Crm.Jobs.Webhooks.WebhookPruneResult(1, 1, 0),
            await scope.ServiceProvider.GetRequiredService<Crm.Jobs.Webhooks.WebhookJobs>().PruneAsync(CancellationToken.None));

        Assert.Equal(["msg_recent"],
            await db.WebhookMessages.Where(m => m.WebhookId == hook.Id).OrderBy(m => m.MessageId).Select(m => m.MessageId).ToListAsync());
        Assert.Equal(1, await db.WebhookEvents.CountAsync(e => e.WebhookId == hook.Id));
        Assert.Equal(1, await db.WebhookDeliveries.CountAsync(d => d.WebhookId == hook.Id));
        await _client.DeleteAsync($"/api/webhooks/{hook.Id}");
    }

    [Fact]
    public async Task ASubscriptionFailingForDisableAfterIsDisabledWithTheReason()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Answer = (_, _) => Task.FromResult(503);
        var subscription = await _client.SubscribeAsync(receiver, "*");
        Assert.Equal(HttpStatusCode.Accepted, (await _client.PostAsync($"/api/webhooks/{subscription.Id}/test", null)).StatusCode);

        // The first attempt starts the failing streak; the retry 5 s later is past DisableAfter (2 s).
        var hook = await Waiting.UntilAsync(
            async () => await (await _client.GetAsync($"/api/webhooks/{subscription.Id}")).ReadJsonAsync(),
            h => !(bool)h["enabled"]!, "the subscription to be disabled");
        Assert.Contains("Crm:Webhooks:DisableAfter", (string?)hook["disabledReason"]);
        Assert.Contains("HTTP 503", (string?)hook["disabledReason"]);
        Assert.Equal("HTTP 503", (string?)hook["lastError"]);
        Assert.Equal(1, (long)hook["pendingEvents"]!);
        var deliveries = await _client.DeliveriesAsync(subscription.Id);
        Assert.True(deliveries.Count >= 2, deliveries.ToJsonString());
        Assert.All(deliveries, d => Assert.Equal("failed", (string?)d!["state"]));
        var requests = receiver.Received.Count;

        // Disabled: new changes write nothing for it.
        await using (var db = factory.CreateDbContext())
        {
            var events = await db.WebhookEvents.CountAsync(e => e.WebhookId == subscription.Id);
            await _client.OrderAsync(TestPhones.New(), 100m);
            Assert.Equal(events, await db.WebhookEvents.CountAsync(e => e.WebhookId == subscription.Id));
        }

        // Enabled again by an operator, against a receiver that answers: the event kept in the
        // outbox goes out, and the failing streak is over.
        receiver.Answer = (_, _) => Task.FromResult(200);
        var enabled = await (await _client.PatchAsJsonAsync($"/api/webhooks/{subscription.Id}", new { enabled = true })).ReadJsonAsync();
        Assert.Null((string?)enabled["disabledReason"]);
        Assert.Null((string?)enabled["failingSince"]);
        await Waiting.UntilAsync(
            async () => await (await _client.GetAsync($"/api/webhooks/{subscription.Id}")).ReadJsonAsync(),
            h => (long)h["pendingEvents"]! == 0, "the kept event to be delivered");
        Assert.True(receiver.Received.Count > requests);
        Assert.Equal("webhook.test", (string?)receiver.Received[^1].Events.Single()!["type"]);
        await _client.DeleteAsync($"/api/webhooks/{subscription.Id}");
    }
}
