using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Crm.Bench;

// bench/webhooks.sh --lanes (issue 23, "Webhook lanes"): 50 000 events (10 000 customers, each
// created then renamed 4 times, 5 statements) to a receiver in this process that answers after
// 100 ms, and to one that answers at once; Crm:Webhooks:Lanes 8 against 1 (one lane of
// customer events: the old serial delivery's order), alternately, each in an app started for
// it. Measured from the commit of the first statement to the last event the receiver has.
// Then the delivery alone, at 8 lanes with the immediate receiver: the same 50 000 events
// written while no app runs (a backlog), then an app started; from the receiver's first
// request to its last. The receiver checks every customer's events arrived in their order
// (event ids ascending).
public sealed class WebhookLanesBenchmark(BenchOptions options)
{
    private const int Customers = 10_000, Renames = 4, Events = Customers * (1 + Renames);

    public List<string> Lines { get; } = [];

    public async Task RunAsync()
    {
        await using var database = await BenchDatabase.CreateAsync(options.Postgres, "crm_bench_lanes");
        var round = 0;
        foreach (var delayMs in new[] { 100, 0 })
        {
            for (var run = 0; run < options.Runs; run++)
            {
                // With --baseline-app: this build against the older one, both at lanes 8;
                // else lanes 8 against 1.
                var pair = options.BaselineApp is { } baseline
                    ? new[] { ("this build", options.AppDll, 8), ("baseline", baseline, 8) }
                    : [("this build", options.AppDll, 8), ("this build", options.AppDll, 1)];
                foreach (var (build, appDll, lanes) in pair)
                {
                    // The serial baseline at 100 ms takes a minute a run: once is enough.
                    if (lanes == 1 && delayMs > 0 && run > 0)
                        continue;
                    var (seconds, requests, outOfOrder) = await MeasureAsync(database, appDll, $"{build}, lanes {lanes}", lanes, delayMs, round++);
                    var line = $"receiver {delayMs,3} ms  {build,-10}  lanes {lanes}  {Events:N0} events in {requests:N0} requests: " +
                               $"{seconds,6:F2} s first event to last delivered, {Events / seconds,8:N0} events/s, " +
                               $"customers out of order: {outOfOrder}; load {Report.LoadAverage()}";
                    Benchmark.Log("lanes: " + line);
                    Lines.Add(line);
                }
            }
        }
        for (var run = 0; run < options.Runs; run++)
        {
            var pair = options.BaselineApp is { } baseline
                ? new[] { ("this build", options.AppDll), ("baseline", baseline) }
                : [("this build", options.AppDll)];
            foreach (var (build, appDll) in pair)
            {
                var (seconds, requests, outOfOrder) = await MeasureBacklogAsync(database, appDll, build, round++);
                var line = $"backlog       {build,-10}  lanes 8  {Events:N0} events in {requests:N0} requests: " +
                           $"{seconds,6:F2} s first request to last delivered, {Events / seconds,8:N0} events/s, " +
                           $"customers out of order: {outOfOrder}; load {Report.LoadAverage()}";
                Benchmark.Log("lanes: " + line);
                Lines.Add(line);
            }
        }
    }

    // The delivery of a backlog: the events are written while no app runs (the triggers write
    // the outbox), so the span from the receiver's first request to its last is delivery alone.
    private async Task<(double Seconds, int Requests, int OutOfOrder)> MeasureBacklogAsync(
        BenchDatabase database, string appDll, string label, int round)
    {
        await using var receiver = await Receiver.StartAsync(0);
        long webhookId;
        await using (var setup = await AppUnderTest.StartAsync(appDll, database.ConnectionString,
                         Path.Combine(options.WorkDir, $"app-lanes-{round}-setup.log"), Settings(8)))
            webhookId = await SubscribeAsync(setup, receiver);
        var phones = Phones(round);
        await CreateCustomersAsync(database, phones);
        await RenameCustomersAsync(database, phones);
        await using var app = await AppUnderTest.StartAsync(appDll, database.ConnectionString,
            Path.Combine(options.WorkDir, $"app-lanes-{round}.log"), Settings(8));
        var cost = await DeliveryCost.StartAsync(database, app.Pid, options.ServerLog);
        await WaitForEveryEventAsync(receiver, Stopwatch.StartNew(), "backlog");
        var seconds = receiver.Span();
        foreach (var line in await cost.StopAsync(receiver.Requests, ownWrites: 0))
            Benchmark.Log($"{label}, backlog, {line}");
        await CleanUpAsync(database, webhookId, phones);
        return (seconds, receiver.Requests, receiver.OutOfOrder);
    }

    private static Dictionary<string, string> Settings(int lanes) => new()
    {
        ["ASPNETCORE_ENVIRONMENT"] = "Development",
        ["Crm__Webhooks__Lanes"] = lanes.ToString(),
        ["Crm__Webhooks__WorkerCount"] = "9",
        ["Crm__Webhooks__PruneCron"] = "",
        ["Crm__Ledger__PruneCron"] = "",
        ["Crm__Sync__RunPruneCron"] = "",
    };

    // A subscription of this receiver to the events the customers' writes below make.
    private static async Task<long> SubscribeAsync(AppUnderTest app, Receiver receiver)
    {
        var (created, _) = await app.SendAsync(HttpMethod.Post, "/api/webhooks",
            new { url = receiver.Url, events = new[] { "customer.created", "customer.updated" } }, HttpStatusCode.Created);
        return (long)created["id"]!;
    }

    // The phone prefix of a measurement's customers: each has its own.
    private static string Phones(int round) => $"+79{round % 10}{round / 10 % 10}";

    // 10 000 customers created (one customer.created event each), then each renamed Renames
    // times, one statement a rename (one customer.updated event per customer and statement).
    private static Task CreateCustomersAsync(BenchDatabase database, string phones) => database.ExecuteAsync($"""
        INSERT INTO customers (name, phone, category, category_rule, total_orders, total_spent, average_order,
                               last_order_date, created_at, updated_at)
        SELECT 'Полоса 0', '{phones}' || lpad(i::text, 7, '0'), 'new', 'new', 0, 0, 0, NULL, now(), now()
        FROM generate_series(1, {Customers}) AS i
        """);

    private static async Task RenameCustomersAsync(BenchDatabase database, string phones)
    {
        for (var rename = 1; rename <= Renames; rename++)
            await database.ExecuteAsync($"UPDATE customers SET name = 'Полоса {rename}' WHERE phone LIKE '{phones}%'");
    }

    private static async Task WaitForEveryEventAsync(Receiver receiver, Stopwatch clock, string what)
    {
        var deadline = TimeSpan.FromMinutes(5);
        while (receiver.Events < Events)
        {
            if (clock.Elapsed > deadline)
                throw new TimeoutException($"{what}: {receiver.Events:N0} of {Events:N0} events after {deadline}");
            await Task.Delay(20);
        }
    }

    private static async Task CleanUpAsync(BenchDatabase database, long webhookId, string phones)
    {
        await database.ExecuteAsync($"DELETE FROM webhooks WHERE id = {webhookId}");
        await database.ExecuteAsync($"DELETE FROM customers WHERE phone LIKE '{phones}%'");
    }

    private async Task<(double Seconds, int Requests, int OutOfOrder)> MeasureAsync(
        BenchDatabase database, string appDll, string label, int lanes, int delayMs, int round)
    {
        await using var receiver = await Receiver.StartAsync(delayMs);
        await using var app = await AppUnderTest.StartAsync(appDll, database.ConnectionString,
            Path.Combine(options.WorkDir, $"app-lanes-{round}.log"), Settings(lanes));
        var webhookId = await SubscribeAsync(app, receiver);

        var phones = Phones(round);
        await CreateCustomersAsync(database, phones);
        var cost = await DeliveryCost.StartAsync(database, app.Pid, options.ServerLog);
        var clock = Stopwatch.StartNew();
        await RenameCustomersAsync(database, phones);
        // The events' own writing is inside the measured span: with a fast receiver it can be
        // most of it.
        Benchmark.Log($"{label}, receiver {delayMs} ms: the last event committed {clock.Elapsed.TotalSeconds:F2} s after the first, " +
                      $"{receiver.Events:N0} delivered by then");
        await WaitForEveryEventAsync(receiver, clock, $"lanes {lanes}");
        var seconds = receiver.LastAt(clock);
        foreach (var line in await cost.StopAsync(receiver.Requests, ownWrites: Renames))
            Benchmark.Log($"{label}, receiver {delayMs} ms, {line}");
        // Where each lane's time went: its requests (as the sender timed them) against its span
        // from its first attempt's end to its last's; the rest is forming, recording, dispatch.
        Benchmark.Log($"{label}, receiver {delayMs} ms: " + await database.ScalarAsync<string>($"""
            SELECT string_agg(format('lane %s: %s requests, %s ms in them, %s ms span', lane, n, http, span), '; ' ORDER BY lane)
            FROM (SELECT m.lane, count(*) AS n, sum(d.duration_ms) AS http,
                         round(extract(epoch FROM max(d.at) - min(d.at)) * 1000) AS span
                  FROM webhook_deliveries d JOIN webhook_messages m ON m.id = d.message_id
                  WHERE d.webhook_id = {webhookId} GROUP BY m.lane) l
            """));
        await CleanUpAsync(database, webhookId, phones);
        return (seconds, receiver.Requests, receiver.OutOfOrder);
    }

    // Kestrel on 127.0.0.1; answers 204 after the delay. Counts each webhook-id once, and per
    // customer the last event id seen: a lower one after it is a customer out of order.
    private sealed class Receiver : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentDictionary<string, bool> _messages = new();
        private readonly ConcurrentDictionary<long, long> _lastEvent = new();
        private readonly ConcurrentDictionary<long, bool> _outOfOrder = new();
        private int _events, _requests;
        private long _firstTicks, _lastTicks;

        private Receiver(WebApplication app, string url) => (_app, Url) = (app, url);

        public string Url { get; }
        public int Events => Volatile.Read(ref _events);
        public int Requests => Volatile.Read(ref _requests);
        public int OutOfOrder => _outOfOrder.Count;

        // Seconds from the stopwatch's start to the last event delivered.
        public double LastAt(Stopwatch clock) =>
            (Volatile.Read(ref _lastTicks) - (Stopwatch.GetTimestamp() - clock.ElapsedTicks)) / (double)Stopwatch.Frequency;

        // Seconds from the first request's arrival to the last event delivered.
        public double Span() => (Volatile.Read(ref _lastTicks) - Volatile.Read(ref _firstTicks)) / (double)Stopwatch.Frequency;

        public static async Task<Receiver> StartAsync(int delayMs)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            Receiver? receiver = null;
            app.MapPost("/{**path}", async (HttpContext context) =>
            {
                Interlocked.CompareExchange(ref receiver!._firstTicks, Stopwatch.GetTimestamp(), 0);
                using var reader = new StreamReader(context.Request.Body);
                var body = await reader.ReadToEndAsync();
                if (delayMs > 0)
                    await Task.Delay(delayMs);
                receiver!.Receive(context.Request.Headers["webhook-id"].ToString(), body);
                context.Response.StatusCode = 204;
            });
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
            receiver = new Receiver(app, address.TrimEnd('/') + "/lanes");
            return receiver;
        }

        private void Receive(string webhookId, string body)
        {
            Interlocked.Increment(ref _requests);
            if (!_messages.TryAdd(webhookId, true))
                return;
            using var json = JsonDocument.Parse(body);
            var count = 0;
            foreach (var e in json.RootElement.GetProperty("events").EnumerateArray())
            {
                var id = long.Parse(e.GetProperty("id").GetString()!["evt_".Length..]);
                var customer = e.GetProperty("data").GetProperty("customerId").GetInt64();
                _lastEvent.AddOrUpdate(customer, id, (_, last) =>
                {
                    if (id < last)
                        _outOfOrder.TryAdd(customer, true);
                    return Math.Max(id, last);
                });
                count++;
            }
            Interlocked.Add(ref _events, count);
            Interlocked.Exchange(ref _lastTicks, Stopwatch.GetTimestamp());
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}
