using System.Diagnostics;
using Crm.Jobs.Webhooks;
using Crm.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Crm.Tests.Webhooks;

// What a message costs the database outside the receiver: one round trip (and so one commit)
// a message, recording the attempt and claiming the next message together; the rest is a job's
// fixed cost. Counted as Npgsql's commands under the delivery, as JobWakeUpTests counts
// Hangfire's. The app runs no jobs (role `api`): the test runs the lane's delivery itself.
public class WebhookMessageCostTests(WebhookMessageCostTests.Factory factory) : IClassFixture<WebhookMessageCostTests.Factory>
{
    public sealed class Factory : WebhookCrmApiFactory
    {
        protected override IEnumerable<(string Key, string Value)> Settings =>
            [("Crm:Role", "api"), ("Crm:Webhooks:MaxEventsPerMessage", "5")];
    }

    // Named in the listener, not compared: reading this field there would create the source
    // while the listener is being added, too early for it to be heard.
    private const string DeliveriesName = "Crm.Tests.WebhookMessageCost";

    private static readonly ActivitySource Deliveries = new(DeliveriesName);

    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task EachMessageCostsOneRoundTripBesidesTheJobsFixedOnes()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var subscription = await _client.SubscribeAsync(receiver, "customer.updated");
        var customerId = await ScalarAsync<long>("""
            INSERT INTO customers (name, phone, category, category_rule, total_orders, total_spent, average_order,
                                   last_order_date, created_at, updated_at)
            VALUES ('Цена 0', '+79950000001', 'new', 'new', 0, 0, 0, NULL, now(), now())
            RETURNING id
            """);
        var lane = await ScalarAsync<int>($"""
            SELECT {WebhookLanes.OfEventSql.Replace("@lanes", "8")}
            FROM (SELECT jsonb_build_object('customerId', {customerId}::bigint) AS data) e
            """);

        // One message first (the subscription's first delivery also settles its lane count),
        // then 2 messages of 5 events, then 4.
        await DeliveredAsync(subscription.Id, lane, customerId, renames: 5, from: 1);
        var two = await DeliveredAsync(subscription.Id, lane, customerId, renames: 10, from: 6);
        var four = await DeliveredAsync(subscription.Id, lane, customerId, renames: 20, from: 16);

        // Two messages more, two round trips more.
        Assert.Equal(two + 2, four);
        // The job's fixed cost: its session's planner setting, the lane's lock, the first look,
        // giving the claim up, the last look, the unlock; and one round trip per message.
        Assert.Equal(6 + 2, two);
        var events = await receiver.EventsAsync(e => e.Count >= 35, "35 events");
        Assert.Equal(Enumerable.Range(1, 35).Select(r => $"Цена {r}"), events.Select(e => (string)e["data"]!["changes"]!["name"]!["to"]!));
        Assert.All(receiver.Received, r => Assert.NotEmpty(r.VerifiedBy));
        await _client.DeleteAsync($"/api/webhooks/{subscription.Id}");
    }

    // Renames the customer `renames` times (one event each), then delivers its lane; the
    // database round trips the delivery made.
    private async Task<int> DeliveredAsync(long webhookId, int lane, long customerId, int renames, int from)
    {
        for (var i = from; i < from + renames; i++)
            await ScalarAsync<int>($"UPDATE customers SET name = 'Цена {i}' WHERE id = {customerId} RETURNING 1");

        var statements = 0;
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Npgsql" or DeliveriesName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = activity =>
            {
                if (activity.Source.Name == "Npgsql" && activity.GetTagItem("db.query.text") is string && UnderDelivery(activity))
                    Interlocked.Increment(ref statements);
            },
        };
        ActivitySource.AddActivityListener(listener);
        using (Deliveries.StartActivity("deliver"))
        {
            using var scope = factory.Services.CreateScope();
            var result = await scope.ServiceProvider.GetRequiredService<WebhookJobs>().DeliverAsync(webhookId, lane, null, CancellationToken.None);
            Assert.Equal(new WebhookDeliveryResult(webhookId, lane, renames / 5, renames, "delivered"), result);
        }
        return Volatile.Read(ref statements);
    }

    private static bool UnderDelivery(Activity activity)
    {
        for (var parent = activity.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent.Source.Name == DeliveriesName)
                return true;
        }
        return false;
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(factory.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
