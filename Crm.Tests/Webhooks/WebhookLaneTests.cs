using Crm.Jobs.Webhooks;
using Crm.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Xunit.Abstractions;

namespace Crm.Tests.Webhooks;

// Delivery in lanes (Crm:Webhooks:Lanes, 8): a customer's events keep their order, lanes go
// in parallel, and a lane whose receiver fails holds back only itself.
public class WebhookLaneTests(WebhookLaneTests.Factory factory, ITestOutputHelper output) : IClassFixture<WebhookLaneTests.Factory>
{
    // Small messages, so that every lane has several, and workers for every lane at once.
    public sealed class Factory : WebhookCrmApiFactory
    {
        protected override IEnumerable<(string Key, string Value)> Settings =>
            [("Crm:Webhooks:MaxEventsPerMessage", "5"), ("Crm:Webhooks:WorkerCount", "9")];
    }

    private const int Lanes = 8;

    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task ManyCustomersChangedTogetherKeepEachCustomersOrderAcrossParallelLanes()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        // A receiver taking its time, so that the lanes' requests overlap.
        var inFlight = 0;
        var overlapped = 0;
        receiver.Answer = async (_, _) =>
        {
            if (Interlocked.Increment(ref inFlight) > 1)
                Interlocked.Exchange(ref overlapped, 1);
            await Task.Delay(Random.Shared.Next(1, 15));
            Interlocked.Decrement(ref inFlight);
            return 204;
        };
        var subscription = await _client.SubscribeAsync(receiver, "customer.updated");
        const int Customers = 60, Rounds = 12;
        await factory.ExecuteAsync($"""
            INSERT INTO customers (name, phone, category, category_rule, total_orders, total_spent, average_order,
                                   last_order_date, created_at, updated_at)
            SELECT 'Порядок 00', '+7996' || lpad(i::text, 7, '0'), 'new', 'new', 0, 0, 0, NULL, now(), now()
            FROM generate_series(1, {Customers}) AS i
            """);
        // Each statement renames every customer: one event per customer and round.
        for (var round = 1; round <= Rounds; round++)
            await factory.ExecuteAsync($"UPDATE customers SET name = 'Порядок {round:00}' WHERE phone LIKE '+7996%'");

        var events = await receiver.EventsAsync(e => e.Count >= Customers * Rounds, $"{Customers * Rounds} events", TimeSpan.FromMinutes(3));

        Assert.Equal(Customers * Rounds, events.Count);
        foreach (var customer in events.GroupBy(e => (long)e["data"]!["customerId"]!))
            Assert.Equal(Enumerable.Range(1, Rounds).Select(r => $"Порядок {r:00}"),
                customer.Select(e => (string)e["data"]!["changes"]!["name"]!["to"]!));
        Assert.Equal(1, overlapped);
        Assert.Equal(Lanes, await ScalarAsync<long>(
            $"SELECT count(DISTINCT lane) FROM webhook_messages WHERE webhook_id = {subscription.Id}"));
        Assert.All(receiver.Received, r => Assert.NotEmpty(r.VerifiedBy));
        await _client.DeleteAsync($"/api/webhooks/{subscription.Id}");
    }

    [Fact]
    public async Task ALaneAnswered500DoesNotHoldBackTheOtherLanes()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var subscription = await _client.SubscribeAsync(receiver, "customer.created");
        const int Customers = 40;
        await factory.ExecuteAsync($"""
            INSERT INTO customers (name, phone, category, category_rule, total_orders, total_spent, average_order,
                                   last_order_date, created_at, updated_at)
            SELECT 'Полоса ' || i, '+7997' || lpad(i::text, 7, '0'), 'new', 'new', 0, 0, 0, NULL, now(), now()
            FROM generate_series(1, {Customers}) AS i
            """);
        var lanes = await CustomerLanesAsync("+7997%");
        var failing = lanes.Values.First();
        var failingCustomers = lanes.Where(l => l.Value == failing).Select(l => l.Key).ToHashSet();
        var healthy = lanes.Keys.Where(c => !failingCustomers.Contains(c)).ToHashSet();
        Assert.NotEmpty(healthy);
        // The receiver fails every message of one lane until released; it notes whose events it
        // acknowledged, in the order it did.
        var released = false;
        var delivered = new System.Collections.Concurrent.ConcurrentQueue<long>();
        receiver.Answer = (request, _) =>
        {
            var customers = request.Events.Select(e => (long)e!["data"]!["customerId"]!).ToList();
            if (!Volatile.Read(ref released) && customers.Any(failingCustomers.Contains))
                return Task.FromResult(500);
            foreach (var customer in customers)
                delivered.Enqueue(customer);
            return Task.FromResult(204);
        };

        // Every other lane is delivered while that lane keeps failing.
        try
        {
            await Waiting.UntilAsync(() => Task.FromResult(delivered.ToHashSet()), healthy.IsSubsetOf, "the healthy lanes' events",
                TimeSpan.FromMinutes(2));
        }
        catch (TimeoutException)
        {
            await WriteLanesAsync(subscription.Id, lanes, delivered.ToHashSet());
            throw;
        }
        Assert.DoesNotContain(delivered, failingCustomers.Contains);
        Assert.Contains(receiver.Received, r => r.Events.Any(e => failingCustomers.Contains((long)e!["data"]!["customerId"]!)));
        var hook = await (await _client.GetAsync($"/api/webhooks/{subscription.Id}")).ReadJsonAsync();
        Assert.NotNull((string?)hook["failingSince"]);
        Assert.Equal("HTTP 500", (string?)hook["lastError"]);
        Assert.True((bool)hook["enabled"]!);

        // Once the receiver takes them, the failed lane follows with its retry, in order.
        Volatile.Write(ref released, true);
        await Waiting.UntilAsync(() => Task.FromResult(delivered.ToHashSet()), d => d.IsSupersetOf(lanes.Keys), "the failed lane's events",
            TimeSpan.FromMinutes(2));
        var failedLane = delivered.Where(failingCustomers.Contains).ToList();
        Assert.Equal(failingCustomers.Order(), failedLane);
        await Waiting.UntilAsync(async () => (string?)(await (await _client.GetAsync($"/api/webhooks/{subscription.Id}")).ReadJsonAsync())["failingSince"],
            since => since is null, "the failing streak to end");
        await _client.DeleteAsync($"/api/webhooks/{subscription.Id}");
    }

    // What a test that waited in vain saw: each lane's customers still missing, its job and
    // that job's state, and what the app logged at Warning and above.
    private async Task WriteLanesAsync(long webhookId, Dictionary<long, int> lanes, HashSet<long> delivered)
    {
        foreach (var lane in lanes.GroupBy(l => l.Value).OrderBy(g => g.Key))
            output.WriteLine($"lane {lane.Key}: {lane.Count(l => !delivered.Contains(l.Key))} of {lane.Count()} customers missing");
        await using var connection = new NpgsqlConnection(factory.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"""
            SELECT 'lane ' || wl.lane || ': job ' || coalesce(wl.delivery_job_id, '-') || ' ' || coalesce(j.statename, '-')
            FROM webhook_lanes wl LEFT JOIN hangfire.job j ON j.id::text = wl.delivery_job_id
            WHERE wl.webhook_id = {webhookId} ORDER BY wl.lane
            """, connection);
        await using (var reader = await command.ExecuteReaderAsync())
            while (await reader.ReadAsync())
                output.WriteLine(reader.GetString(0));
        foreach (var line in factory.Logs.AtLeast(LogLevel.Warning))
            output.WriteLine(line);
    }

    [Fact]
    public async Task SyncEventsGoInALaneOfTheirOwnInTheOrderOfTheRuns()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var subscription = await _client.SubscribeAsync(receiver, "sync.completed", "customer.created");
        var runs = new List<long>();
        for (var i = 0; i < 4; i++)
        {
            await factory.ExecuteAsync($"""
                INSERT INTO customers (name, phone, category, category_rule, total_orders, total_spent, average_order,
                                       last_order_date, created_at, updated_at)
                SELECT 'Синк ' || g, '+7998{i}' || lpad(g::text, 6, '0'), 'new', 'new', 0, 0, 0, NULL, now(), now()
                FROM generate_series(1, 10) AS g
                """);
            runs.Add(await _client.FullSyncRunAsync("force"));
        }

        var events = await receiver.EventsAsync(e => e.Count(x => (string?)x["type"] == "sync.completed") >= runs.Count, "the runs' events");
        Assert.Equal(runs, events.Where(x => (string?)x["type"] == "sync.completed").Select(x => (long)x["data"]!["runId"]!));
        Assert.Equal(WebhookLanes.NoCustomer, await ScalarAsync<int>($"""
            SELECT m.lane FROM webhook_messages m JOIN webhook_events e ON e.message_id = m.id
            WHERE m.webhook_id = {subscription.Id} AND e.type = 'sync.completed' GROUP BY m.lane
            """));
        await _client.DeleteAsync($"/api/webhooks/{subscription.Id}");
    }

    // A process with another lane count (a rolling restart after changing Crm:Webhooks:Lanes)
    // forms nothing while a message formed under the old count is undelivered, and switches the
    // subscription once none is.
    [Fact]
    public async Task AnotherLaneCountWaitsUntilTheOldCountsMessagesAreDelivered()
    {
        // Customers first (nobody subscribed yet), so that the receiver can fail one lane above
        // 3: the lanes a 3-lane process delivers then have nothing failing of their own.
        await factory.ExecuteAsync("""
            INSERT INTO customers (name, phone, category, category_rule, total_orders, total_spent, average_order,
                                   last_order_date, created_at, updated_at)
            SELECT 'Смена 0', '+7992' || lpad(i::text, 7, '0'), 'new', 'new', 0, 0, 0, NULL, now(), now()
            FROM generate_series(1, 30) AS i
            """);
        var lanes = await CustomerLanesAsync("+7992%");
        var failingLane = lanes.Values.Where(l => l > 3).Min();
        var failing = lanes.Where(l => l.Value == failingLane).Select(l => l.Key).ToHashSet();
        await using var receiver = await WebhookReceiver.StartAsync();
        var released = false;
        receiver.Answer = (request, _) => Task.FromResult(
            !Volatile.Read(ref released) && request.Events.Any(e => failing.Contains((long)e!["data"]!["customerId"]!)) ? 500 : 204);
        var subscription = await _client.SubscribeAsync(receiver, "customer.updated");
        await factory.ExecuteAsync("UPDATE customers SET name = 'Смена 1' WHERE phone LIKE '+7992%'");
        await Waiting.UntilAsync(() => ScalarAsync<long>($"""
            SELECT count(*) FROM webhook_deliveries d JOIN webhook_messages m ON m.id = d.message_id
            WHERE m.webhook_id = {subscription.Id} AND m.lane = {failingLane} AND d.state = 'failed'
            """), n => n > 0, "the failing lane's message to fail");
        var threeLanes = new WebhookJobs(
            factory.Services.GetRequiredKeyedService<NpgsqlDataSource>(Crm.Jobs.Data.CrmDataSources.Jobs),
            factory.Services.GetRequiredService<WebhookSender>(), factory.Services.GetRequiredService<Crm.Jobs.Hosting.CrmMetrics>(),
            TimeProvider.System, Options.Create(new WebhookOptions { Lanes = 3 }), NullLogger<WebhookJobs>.Instance);

        for (var lane = 0; lane <= 3; lane++)
            await threeLanes.DeliverAsync(subscription.Id, lane, null, CancellationToken.None);
        Assert.Equal(Lanes, await ScalarAsync<int>($"SELECT lanes FROM webhooks WHERE id = {subscription.Id}"));
        Assert.Equal(0, await ScalarAsync<long>($"SELECT count(*) FROM webhook_messages WHERE webhook_id = {subscription.Id} AND lanes <> {Lanes}"));

        Volatile.Write(ref released, true);
        await Waiting.UntilAsync(() => ScalarAsync<long>($"""
            SELECT (SELECT count(*) FROM webhook_messages WHERE webhook_id = {subscription.Id} AND delivered_at IS NULL)
                 + (SELECT count(*) FROM webhook_events WHERE webhook_id = {subscription.Id} AND message_id IS NULL)
            """), n => n == 0, "the old count's messages to be delivered", TimeSpan.FromMinutes(2));
        await threeLanes.DeliverAsync(subscription.Id, 1, null, CancellationToken.None);
        Assert.Equal(3, await ScalarAsync<int>($"SELECT lanes FROM webhooks WHERE id = {subscription.Id}"));
        await _client.DeleteAsync($"/api/webhooks/{subscription.Id}");
    }

    // Each customer's lane, computed by the service's own expression.
    private async Task<Dictionary<long, int>> CustomerLanesAsync(string phones)
    {
        await using var connection = new NpgsqlConnection(factory.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"""
            SELECT c.id, {WebhookLanes.OfEventSql}
            FROM customers c CROSS JOIN LATERAL (SELECT jsonb_build_object('customerId', c.id) AS data) e
            WHERE c.phone LIKE @phones ORDER BY c.id
            """, connection);
        command.Parameters.AddWithValue("phones", phones);
        command.Parameters.AddWithValue("lanes", Lanes);
        await using var reader = await command.ExecuteReaderAsync();
        var lanes = new Dictionary<long, int>();
        while (await reader.ReadAsync())
            lanes[reader.GetInt64(0)] = reader.GetInt32(1);
        return lanes;
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(factory.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
