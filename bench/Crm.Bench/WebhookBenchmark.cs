// Over 400 lines: the webhook benchmark's phases and its verifying receiver, read as one script.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Crm.Jobs.Webhooks;

namespace Crm.Bench;

// bench/webhooks.sh (Crm.Bench --webhooks): signed outbound webhooks under a recalculation that
// moves --moved customers (default 50 000) to another category. Per size, on one loaded and
// synced database and one running app, a real receiver in this process (WebhookReceiver:
// Kestrel on loopback, every request verified with StandardWebhooks), every figure from
// outside:
//   (a) the recalculation job, POST /api/categories/recalculate → Succeeded, with one enabled
//       subscription to customer.category_changed ("on") against none enabled ("off": the
//       trigger returns at once), in alternating pairs: the same-pair ratio is what writing
//       the events costs; the trigger's own time read by SQL (track_functions);
//   (b) with the subscription, from the POST until the receiver has every event (deduped on
//       webhook-id and event id), the requests it got, events per second;
//   (c) the plans of the delivery's statements (forming a message, the dispatcher's query)
//       and of the trigger's INSERT, under auto_explain during one more run.
// Every run is checked by SQL: the job's changedCount, the ledger's category rows, the events
// written, and what the receiver got: each event once, in ascending id order, the same ids
// and customers as written.
public sealed class WebhookBenchmark(BenchOptions options, DateTime now)
{
    public const string EventType = "customer.category_changed";

    // http://127.0.0.1 receivers are refused outside Development (WebhookUrlPolicy); the rest
    // as the other benches run the app. The recalculation's own cron cannot be turned off
    // (03:00 UTC); the prunes can.
    private static readonly Dictionary<string, string> AppSettings = new()
    {
        ["ASPNETCORE_ENVIRONMENT"] = "Development",
        ["Crm__Webhooks__PruneCron"] = "",
        ["Crm__Ledger__PruneCron"] = "",
        ["Crm__Sync__RunPruneCron"] = "",
    };

    public List<FigureSet> Sets { get; } = [];
    public List<(string Title, string Text)> Explanations { get; } = [];

    private int _waitedSeconds;

    public async Task RunAsync()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        Benchmark.Log($"webhooks: receiver on {receiver.Url}");
        foreach (var orders in options.Sizes)
        {
            var data = new OrderGenerator(orders, options.PhonesFor(orders), now);
            await using var database = await BenchDatabase.CreateAsync(options.Postgres, "crm_bench_webhooks");
            Sets.Add(await MeasureAsync(data, database, receiver));
        }
    }

    private async Task<FigureSet> MeasureAsync(OrderGenerator data, BenchDatabase database, WebhookReceiver receiver)
    {
        var set = new FigureSet($"{data.Orders:N0} orders", data.Orders, data.Phones);
        Benchmark.Log($"webhooks: {data.Orders:N0} orders over {data.Phones:N0} phones");
        set.Facts["loadAverageAtStart"] = Report.LoadAverage();
        // The functions' own time (pg_stat_user_functions) for every session of the app.
        await database.ExecuteAsync($"ALTER DATABASE {database.Name} SET track_functions = 'pl'");
        long webhookId;
        await using (var app = await StartAppAsync(database, $"app-webhooks-subscribe-{data.Orders}"))
        {
            await database.DisableAutovacuumAsync();
            await database.ExecuteAsync("ALTER TABLE customer_changes SET (autovacuum_enabled = false)");
            webhookId = await SubscribeAsync(app, receiver);
            set.Facts["subscription"] = $"webhook {webhookId}: {receiver.Url}, events [{EventType}]";
        }

        var copyMs = await database.CopyOrdersAsync(Range(data, 0, data.Orders), now);
        await database.SettleAsync("orders");
        var phones = await database.ScalarAsync<long>("SELECT count(DISTINCT normalized_phone) FROM orders");
        set.Facts["distinctPhones"] = phones;
        Benchmark.Log($"webhooks: {data.Orders:N0} orders loaded by COPY in {copyMs / 1000:F1} s, {phones:N0} phones");
        await FirstSyncAsync(set, database);

        await using (var app = await StartAppAsync(database, $"app-webhooks-{data.Orders}"))
        {
            await WarmUpAsync(database, app, receiver, webhookId);
            var moved = await PickMovedAsync(database, options.Moved);
            set.Facts["movedCustomers"] = moved.Count;
            set.Facts["movedToInactive"] = moved.ToInactive;
            if (moved.Count < options.Moved)
                Benchmark.Log($"webhooks: only {moved.Count:N0} customers have orders: the recalculation moves all of them");
            await MeasurePairsAsync(set, database, app, receiver, webhookId, moved);
            set.Facts["webhookEventsAtEnd"] = await database.ScalarAsync<long>("SELECT count(*) FROM webhook_events");
            set.Facts["webhookEventsMbAtEnd"] = Math.Round(await database.ScalarAsync<long>("SELECT pg_total_relation_size('webhook_events')") / 1048576.0, 1);
        }
        await ExplainAsync(set, database, receiver, webhookId, data.Orders);
        set.Facts["loadAverageAtEnd"] = Report.LoadAverage();
        return set;
    }

    // Untimed: the first sync of the loaded orders, in an app process of its own under
    // auto_explain (statements of 10 ms or more, nested ones too), with the subscription
    // enabled: customer.created is not among its events, so the webhook trigger writes nothing,
    // but it runs on every statement that creates customers. Its own time (track_functions),
    // its calls and its plans are kept.
    private async Task FirstSyncAsync(FigureSet set, BenchDatabase database)
    {
        var serverLog = options.ServerLog is { } path && File.Exists(path) ? path : null;
        if (serverLog is not null)
            await database.LogPlansAsync(minDurationMs: 10);
        var offset = serverLog is null ? 0 : new FileInfo(serverLog).Length;
        try
        {
            await using var app = await StartAppAsync(database, $"app-webhooks-first-sync-{set.Orders}");
            var before = await FunctionStatsAsync(database);
            var first = await app.SyncAsync("default");
            var after = await FunctionStatsAsync(database, before, TimeSpan.FromSeconds(15));
            set.Facts["firstSync"] = $"{first.Int("createdCount"):N0} customers created, wall {first.WallMs:F0} ms, engine {first.DurationMs:F0} ms " +
                $"(under auto_explain); the webhook trigger: {after.WebhookCalls - before.WebhookCalls} calls, own time {after.WebhookMs - before.WebhookMs:F0} ms, " +
                $"{await database.ScalarAsync<long>("SELECT count(*) FROM webhook_events")} events written; " +
                $"the ledger trigger's own time {after.LedgerSelfMs - before.LedgerSelfMs:F0} ms";
            Benchmark.Log($"webhooks: first sync: {set.Facts["firstSync"]}");
        }
        finally
        {
            if (serverLog is not null)
                await ResetPlansAsync(database);
        }
        set.Facts["customersPerCategory"] = await CategoriesAsync(database);
        if (serverLog is null)
            return;
        var inserts = LedgerBenchmark.PlanEntryList(serverLog, offset, "INSERT INTO webhook_events");
        var ms = inserts.Select(Duration).ToList();
        set.Facts["firstSyncTriggerInsertsLogged"] = $"{inserts.Count} of 10 ms or more, {ms.Sum():F0} ms in all";
        if (inserts.Count > 0)
        {
            var slowest = inserts[ms.IndexOf(ms.Max())];
            Explanations.Add(($"Webhooks at N={set.Orders:N0}: the first sync, with a subscription to {EventType} only: the webhook trigger's slowest INSERT", slowest));
            set.Facts["firstSyncTriggerPlan"] = slowest;
        }
    }

    private static async Task ResetPlansAsync(BenchDatabase database)
    {
        foreach (var setting in new[] { "session_preload_libraries", "auto_explain.log_min_duration", "auto_explain.log_analyze",
                     "auto_explain.log_buffers", "auto_explain.log_nested_statements" })
            await database.ExecuteAsync($"ALTER DATABASE {database.Name} RESET {setting}");
    }

    private static double Duration(string entry) =>
        Regex.Match(entry, @"duration: ([0-9.]+) ms") is { Success: true } m ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : double.NaN;

    private Task<AppUnderTest> StartAppAsync(BenchDatabase database, string log) =>
        AppUnderTest.StartAsync(options.AppDll, database.ConnectionString, Path.Combine(options.WorkDir, $"{log}.log"), AppSettings);

    // POST /api/webhooks as an admin would; the receiver verifies with the secret it answers.
    private static async Task<long> SubscribeAsync(AppUnderTest app, WebhookReceiver receiver)
    {
        var (created, _) = await app.SendAsync(HttpMethod.Post, "/api/webhooks",
            new { url = receiver.Url, events = new[] { EventType }, description = "bench/webhooks.sh receiver" }, HttpStatusCode.Created);
        receiver.Secret = (string)created["secret"]!;
        return (long)created["id"]!;
    }

    // "off" is the subscription disabled (PATCH enabled: false): no enabled subscription, so the
    // trigger returns before building anything, as on a service without subscriptions.
    private static async Task SetSubscribedAsync(AppUnderTest app, BenchDatabase database, long webhookId, bool on)
    {
        await app.SendAsync(HttpMethod.Patch, $"/api/webhooks/{webhookId}", new { enabled = on }, HttpStatusCode.OK);
        var enabled = await database.ScalarAsync<long>("SELECT count(*) FROM webhooks WHERE enabled");
        if (enabled != (on ? 1 : 0))
            throw new InvalidOperationException($"{enabled} subscriptions are enabled, expected {(on ? 1 : 0)}");
    }

    // Untimed, in the measuring app process: two runs of each kind moving 1 000 customers
    // (with and without the subscription, a delivery to the receiver), so the figures are a
    // running service's, not a fresh process's JIT.
    private async Task WarmUpAsync(BenchDatabase database, AppUnderTest app, WebhookReceiver receiver, long webhookId)
    {
        var moved = await PickMovedAsync(database, 1_000);
        var scratch = new FigureSet("warm-up", 0, 0);
        foreach (var on in new[] { false, true, false, true })
            await RunAsync(scratch, database, app, receiver, webhookId, moved, on);
    }

    // (a) and (b): alternating pairs, the last run of all with the subscription.
    private async Task MeasurePairsAsync(
        FigureSet set, BenchDatabase database, AppUnderTest app, WebhookReceiver receiver, long webhookId, Moved moved)
    {
        var n = moved.Count;
        var onWall = set.Get("recalc.on.wall", $"recalculation moving {n:N0} customers, with a subscription: wall, POST → Succeeded", "ms");
        var offWall = set.Get("recalc.off.wall", "the same without any subscription (baseline): wall", "ms");
        var onEngine = set.Get("recalc.on.engine", "with a subscription: the job's engine time (durationMs)", "ms");
        var offEngine = set.Get("recalc.off.engine", "without: engine time", "ms");
        var ratioWall = set.Get("recalc.ratio.wall", "with / without, wall, same pair", "×");
        var ratioEngine = set.Get("recalc.ratio.engine", "with / without, engine time, same pair", "×");
        var triggerOn = set.Get("trigger.on", $"the webhook trigger's own time, with a subscription ({n:N0} events)", "ms");
        var triggerOff = set.Get("trigger.off", "the webhook trigger's own time, without", "ms");
        var triggerShare = set.Get("trigger.share", "webhook trigger / engine time, with a subscription, same run", "%");
        var ledgerOn = set.Get("ledger.on", "the ledger trigger's time without the webhook trigger in it, with a subscription", "ms");
        var total = set.Get("delivery.total", $"POST → the receiver has all {n:N0} events", "ms");
        var afterJob = set.Get("delivery.afterJob", "job Succeeded (as polled) → the receiver has all events", "ms");
        var firstRequest = set.Get("delivery.first", "job Succeeded (as polled) → first request at the receiver", "ms");
        var requests = set.Get("delivery.requests", $"HTTP requests received (expected {(n + 99) / 100} at 100 events each)", "requests");
        var rate = set.Get("delivery.rate", "events delivered per second (events / (Succeeded → all))", "events/s");
        var perMessage = set.Get("delivery.perMessage", "per message: (first → last request) / (messages − 1)", "ms");
        var http = set.Get("delivery.http", "per message: the sender's request time (webhook_deliveries.duration_ms, mean)", "ms");

        for (var pair = 1; pair <= options.Runs; pair++)
        {
            await WaitQuietAsync(set);
            var runs = new Dictionary<bool, RunOutcome>();
            foreach (var on in PairOrder(pair))
            {
                var run = await RunAsync(set, database, app, receiver, webhookId, moved, on);
                runs[on] = run;
                (on ? onWall : offWall).Add(run.Job.WallMs);
                (on ? onEngine : offEngine).Add(run.Job.DurationMs);
                (on ? triggerOn : triggerOff).Add(run.WebhookTriggerMs);
                if (on)
                {
                    triggerShare.Add(100 * run.WebhookTriggerMs / run.Job.DurationMs);
                    ledgerOn.Add(run.LedgerSelfMs);
                    total.Add(run.AllMs);
                    afterJob.Add(run.AllMs - run.Job.WallMs);
                    firstRequest.Add(run.FirstMs - run.Job.WallMs);
                    requests.Add(run.Requests);
                    rate.Add(n / ((run.AllMs - run.Job.WallMs) / 1000));
                    perMessage.Add(run.SpanMs / Math.Max(1, run.Requests - 1));
                    http.Add(run.SenderRequestMs);
                }
            }
            ratioWall.Add(runs[true].Job.WallMs / runs[false].Job.WallMs);
            ratioEngine.Add(runs[true].Job.DurationMs / runs[false].Job.DurationMs);
        }
        set.Get("recalc.ratio.medians", "with / without: median / median, wall", "×", derived: true).Add(onWall.Median / offWall.Median);
        set.Get("recalc.extra.medians", "with − without: median − median, wall", "ms", derived: true).Add(onWall.Median - offWall.Median);
    }

    private sealed record RunOutcome(
        JobOutcome Job, double WebhookTriggerMs, double LedgerSelfMs, double AllMs, double FirstMs, double SpanMs, int Requests,
        double SenderRequestMs);

    // One run: the picked customers moved across the inactivity threshold (untimed, triggers
    // off), the subscription enabled or not, the recalculation through the API, then (with the
    // subscription) until the receiver has every event and the delivery job has ended;
    // everything checked; the customers put back (triggers off).
    private async Task<RunOutcome> RunAsync(
        FigureSet set, BenchDatabase database, AppUnderTest app, WebhookReceiver receiver, long webhookId, Moved moved, bool on)
    {
        await SetSubscribedAsync(app, database, webhookId, on);
        await MoveAsync(database);
        await database.SettleAsync("customers", "customer_changes", "webhook_events", "webhook_messages", "webhook_deliveries");
        var ledgerBefore = await MaxIdAsync(database, "customer_changes");
        var eventsBefore = await MaxIdAsync(database, "webhook_events");
        var messagesBefore = await MaxIdAsync(database, "webhook_messages");
        var stats = await FunctionStatsAsync(database);
        var round = receiver.Begin(on ? moved.Count : int.MaxValue);

        var start = Stopwatch.GetTimestamp();
        var job = await app.RunJobAsync("/api/categories/recalculate");
        double allMs = double.NaN, firstMs = double.NaN, spanMs = double.NaN;
        if (on)
        {
            var all = await round.All.Task.WaitAsync(TimeSpan.FromMinutes(options.JobTimeoutMinutes));
            allMs = Stopwatch.GetElapsedTime(start, all).TotalMilliseconds;
            firstMs = Stopwatch.GetElapsedTime(start, round.FirstAt!.Value).TotalMilliseconds;
            spanMs = Stopwatch.GetElapsedTime(round.FirstAt!.Value, round.LastAt).TotalMilliseconds;
            await WaitDeliveredAsync(database, webhookId);
        }
        var after = await FunctionStatsAsync(database, stats, TimeSpan.FromSeconds(20));

        // The ledger: exactly the moved customers' category rows, from the recalculation.
        var n = (long)moved.Count;
        Check(set, "recalcChangedCount", (long)job.Int("changedCount"), n);
        Check(set, "ledgerRowsOfRun", await database.ScalarAsync<string>($"""
            SELECT concat_ws(' ', count(*), count(*) FILTER (WHERE field = 'category' AND source = 'recalculate'),
                             count(DISTINCT customer_id), count(b.id))
            FROM customer_changes ch LEFT JOIN bench_moved b ON b.id = ch.customer_id WHERE ch.id > {ledgerBefore}
            """), $"{n} {n} {n} {n}");
        Check(set, "webhookTriggerCalls", after.WebhookCalls - stats.WebhookCalls, 1L);

        // The events written: one per ledger row when subscribed, in the ledger's order; none without.
        var written = await database.ScalarAsync<string>($"""
            SELECT concat_ws(' ', count(*), count(*) FILTER (WHERE type = '{EventType}' AND webhook_id = {webhookId}),
                             coalesce(min(id), 0), coalesce(max(id), 0), coalesce(sum(id), 0))
            FROM webhook_events WHERE id > {eventsBefore}
            """);
        var sent = double.NaN;
        if (!on)
        {
            Check(set, "eventsWrittenWithout", written, "0 0 0 0 0");
            Check(set, "requestsWithout", round.Requests, 0);
        }
        else
        {
            Check(set, "eventsInLedgerOrder", await database.ScalarAsync<long>($"""
                SELECT count(*) FROM (
                    SELECT ch.id < lag(ch.id) OVER (ORDER BY e.id) AS back
                    FROM webhook_events e JOIN customer_changes ch
                      ON ch.customer_id = (e.data->>'customerId')::bigint AND ch.id > {ledgerBefore}
                    WHERE e.id > {eventsBefore}) x
                WHERE back
                """), 0L);
            // What the receiver got: every event written, once, in ascending id order, each moved customer once.
            var received = $"{round.EventIds.Count} {round.EventIds.Count - round.OtherTypes} " +
                $"{(round.EventIds.Count == 0 ? 0 : round.EventIds.Min())} {round.LastEventId} {round.SumOfIds}";
            Check(set, "eventsReceivedEqualWritten", received, written);
            Check(set, "eventsReceived", (long)round.EventIds.Count, n);
            Check(set, "repeatedEvents", round.RepeatedEvents, 0);
            Check(set, "eventsOutOfOrder", round.OutOfOrder, 0);
            Check(set, "unverifiedRequests", round.Unverified, 0);
            Check(set, "repeatedMessages", round.RepeatedMessages, 0);
            Check(set, "customersReceived", round.CustomerIds.Count(moved.Ids.Contains), moved.Count);
            Check(set, "movedToInactiveReceived", round.ToInactive, moved.ToInactive);
            Check(set, "requests", round.Requests, (moved.Count + 99) / 100);
            // The service's side: one message per request, each delivered at the first attempt.
            Check(set, "messagesOfRun", await database.ScalarAsync<string>($"""
                SELECT concat_ws(' ', count(*), coalesce(sum(event_count), 0), coalesce(sum(attempts), 0), count(delivered_at))
                FROM webhook_messages WHERE id > {messagesBefore}
                """), $"{round.Requests} {n} {round.Requests} {round.Requests}");
            sent = await database.ScalarAsync<double>($"""
                SELECT coalesce(avg(duration_ms), 'NaN')::float8 FROM webhook_deliveries WHERE message_id > {messagesBefore}
                """);
        }
        Check(set, "pendingAfterRun", await database.ScalarAsync<long>("""
            SELECT (SELECT count(*) FROM webhook_events WHERE message_id IS NULL)
                 + (SELECT count(*) FROM webhook_messages WHERE delivered_at IS NULL)
            """), 0L);
        await RestoreAsync(database);

        var outcome = new RunOutcome(job, after.WebhookMs - stats.WebhookMs, after.LedgerSelfMs - stats.LedgerSelfMs,
            allMs, firstMs, spanMs, round.Requests, sent);
        Benchmark.Log($"{(set.Orders == 0 ? "warm-up " : "")}recalculation moving {n:N0}, {(on ? "with   " : "without")}: wall {job.WallMs:F0} ms, " +
            $"engine {job.DurationMs:F0} ms, webhook trigger {outcome.WebhookTriggerMs:F0} ms" +
            (on ? $"; all {n:N0} events at the receiver after {allMs:F0} ms ({round.Requests} requests, first {firstMs:F0} ms, " +
                  $"{spanMs / Math.Max(1, round.Requests - 1):F1} ms a message, sender's request {sent:F1} ms)" : "") +
            $" (load {Report.LoadAverage()})");
        return outcome;
    }

    // Until the subscription has nothing left to send and its lanes' delivery jobs have ended
    // (each clears its lane's delivery_job_id when it finds nothing more).
    private async Task WaitDeliveredAsync(BenchDatabase database, long webhookId)
    {
        var deadline = Stopwatch.StartNew();
        while (await database.ScalarAsync<long>($"""
            SELECT (SELECT count(*) FROM webhook_events WHERE webhook_id = {webhookId} AND message_id IS NULL)
                 + (SELECT count(*) FROM webhook_messages WHERE webhook_id = {webhookId} AND delivered_at IS NULL)
                 + (SELECT count(*) FROM webhook_lanes WHERE webhook_id = {webhookId} AND delivery_job_id IS NOT NULL)
            """) > 0)
        {
            if (deadline.Elapsed > TimeSpan.FromMinutes(options.JobTimeoutMinutes))
                throw new TimeoutException($"webhook {webhookId} still has something to deliver after {options.JobTimeoutMinutes} min");
            await Task.Delay(100);
        }
    }

    private sealed record Moved(int Count, int ToInactive, HashSet<long> Ids);

    // A repeatable pick of customers with completed orders (only they can cross the
    // inactivity threshold), with what they hold now.
    private static async Task<Moved> PickMovedAsync(BenchDatabase database, int count)
    {
        await database.ExecuteAsync($"""
            DROP TABLE IF EXISTS bench_moved;
            CREATE TABLE bench_moved AS
                SELECT id, last_order_date, category, category_rule FROM customers
                WHERE total_orders > 0 ORDER BY md5(phone) LIMIT {count};
            ALTER TABLE bench_moved ADD PRIMARY KEY (id);
            ANALYZE bench_moved;
            """);
        var ids = new HashSet<long>();
        await using (var command = database.DataSource.CreateCommand("SELECT id FROM bench_moved"))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
                ids.Add(reader.GetInt64(0));
        }
        var toInactive = await database.ScalarAsync<long>("SELECT count(*) FROM bench_moved WHERE category <> 'inactive'");
        return new Moved(ids.Count, (int)toInactive, ids);
    }

    // The picked customers cross the inactivity threshold: those active last bought 200 days
    // ago, those inactive 10 days ago. By SQL with every trigger off (session_replication_role),
    // so neither the ledger nor the outbox sees it: the recalculation is the only change.
    private static Task MoveAsync(BenchDatabase database) => database.ExecuteAsync("""
        BEGIN;
        SET LOCAL session_replication_role = replica;
        UPDATE customers c
        SET last_order_date = CASE WHEN b.category = 'inactive' THEN now() - interval '10 days' ELSE now() - interval '200 days' END
        FROM bench_moved b WHERE c.id = b.id;
        COMMIT;
        """);

    // Back as they were, triggers off.
    private static Task RestoreAsync(BenchDatabase database) => database.ExecuteAsync("""
        BEGIN;
        SET LOCAL session_replication_role = replica;
        UPDATE customers c SET last_order_date = b.last_order_date, category = b.category, category_rule = b.category_rule
        FROM bench_moved b WHERE c.id = b.id;
        COMMIT;
        """);

    private sealed record FunctionStats(long WebhookCalls, double WebhookMs, long LedgerCalls, double LedgerSelfMs);

    // The triggers' functions as pg_stat_user_functions counts them (track_functions = pl):
    // the webhook trigger's total time (its INSERT with its indexes and foreign-key checks) and
    // the ledger trigger's own time (its total minus the webhook trigger it fires). Backends
    // report these when they go idle, within about 10 s: with `previous`, wait (up to `wait`)
    // until the webhook trigger's calls have grown.
    private static async Task<FunctionStats> FunctionStatsAsync(BenchDatabase database, FunctionStats? previous = null, TimeSpan wait = default)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            await using var command = database.DataSource.CreateCommand("""
                SELECT coalesce(sum(calls) FILTER (WHERE funcname = 'crm_webhook_customer_events'), 0)::bigint,
                       coalesce(sum(total_time) FILTER (WHERE funcname = 'crm_webhook_customer_events'), 0)::float8,
                       coalesce(sum(calls) FILTER (WHERE funcname = 'crm_record_customer_changes'), 0)::bigint,
                       coalesce(sum(self_time) FILTER (WHERE funcname = 'crm_record_customer_changes'), 0)::float8
                FROM pg_stat_user_functions
                """);
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            var stats = new FunctionStats(reader.GetInt64(0), reader.GetDouble(1), reader.GetInt64(2), reader.GetDouble(3));
            if (previous is null || stats.WebhookCalls > previous.WebhookCalls || deadline.Elapsed > wait)
                return stats;
            await Task.Delay(200);
        }
    }

    // (c) One more run with the subscription, under auto_explain (every statement, nested ones
    // too, ANALYZE and BUFFERS) in a new app process: the recalculation's UPDATE with its
    // triggers' times, the trigger's INSERT INTO webhook_events, every message formed (the CTE
    // of WebhookJobs.NextMessageSql) and the dispatcher's query (WebhookDispatch.DispatchAllAsync)
    // after the commit and at its next poll. Then, the app stopped, the bench's own
    // EXPLAIN (ANALYZE, BUFFERS) of the dispatcher's query and of forming a message with
    // nothing pending, before and after a VACUUM of webhook_events.
    private async Task ExplainAsync(FigureSet set, BenchDatabase database, WebhookReceiver receiver, long webhookId, int orders)
    {
        if (options.ServerLog is not { } serverLog || !File.Exists(serverLog))
        {
            Benchmark.Log("webhooks: PostgreSQL's log file is unknown (--server-log): no plans");
            return;
        }
        await WaitQuietAsync(set);
        var moved = await PickMovedAsync(database, options.Moved);
        await database.LogPlansAsync(minDurationMs: 0);
        long start;
        try
        {
            await using var app = await StartAppAsync(database, $"app-webhooks-explain-{orders}");
            await SetSubscribedAsync(app, database, webhookId, true);
            await MoveAsync(database);
            await database.SettleAsync("customers", "customer_changes", "webhook_events", "webhook_messages", "webhook_deliveries");
            var round = receiver.Begin(moved.Count);
            start = new FileInfo(serverLog).Length;
            var begun = Stopwatch.GetTimestamp();
            var job = await app.RunJobAsync("/api/categories/recalculate");
            var all = await round.All.Task.WaitAsync(TimeSpan.FromMinutes(options.JobTimeoutMinutes));
            await WaitDeliveredAsync(database, webhookId);
            set.Facts["explainRun"] = $"under auto_explain: wall {job.WallMs:F0} ms, engine {job.DurationMs:F0} ms, " +
                $"all {round.EventIds.Count:N0} events after {Stopwatch.GetElapsedTime(begun, all).TotalMilliseconds:F0} ms, {round.Requests} requests";
            // The dispatcher's next poll (Crm:Webhooks:PollInterval, 5 s), after everything is delivered.
            await Task.Delay(TimeSpan.FromSeconds(6));
        }
        finally
        {
            await ResetPlansAsync(database);
        }

        var text = new System.Text.StringBuilder();
        void Add(string title, string? plan)
        {
            if (plan is null)
                return;
            text.AppendLine().AppendLine($"-- {title}").Append(plan);
        }
        var recalculation = LedgerBenchmark.PlanEntryList(serverLog, start, "UPDATE customers SET category");
        var trigger = LedgerBenchmark.PlanEntryList(serverLog, start, "INSERT INTO webhook_events");
        var forms = LedgerBenchmark.PlanEntryList(serverLog, start, "INSERT INTO webhook_messages");
        var dispatches = LedgerBenchmark.PlanEntryList(serverLog, start, "SELECT w.id FROM webhooks w");
        Add("the recalculation's UPDATE (its triggers' times at the end)", recalculation.FirstOrDefault());
        Add("the webhook trigger's INSERT INTO webhook_events (nested in the ledger's INSERT)", trigger.FirstOrDefault());
        set.Facts["explainMessagesFormed"] = forms.Count;
        if (forms.Count > 0)
        {
            Add($"forming message 1 of {forms.Count} (all {moved.Count:N0} events pending)", forms[0]);
            Add($"forming message {forms.Count / 2 + 1} of {forms.Count}", forms[forms.Count / 2]);
            Add($"forming message {forms.Count} of {forms.Count}", forms[^1]);
            // How a message's cost grows as the subscription's claimed events pile up (dead
            // entries of the partial index until a vacuum): the first and last tenth.
            var tenth = Math.Max(1, forms.Count / 10);
            var durations = forms.Select(Duration).ToList();
            var buffers = forms.Select(Buffers).ToList();
            set.Get("explain.form.first", $"forming a message (auto_explain), the first {tenth}: median", "ms", derived: true).Add(Median(durations.Take(tenth)));
            set.Get("explain.form.last", $"forming a message (auto_explain), the last {tenth}: median", "ms", derived: true).Add(Median(durations.TakeLast(tenth)));
            set.Get("explain.form.buffers.first", $"forming a message, the first {tenth}: shared buffers (median)", "buffers", derived: true).Add(Median(buffers.Take(tenth)));
            set.Get("explain.form.buffers.last", $"forming a message, the last {tenth}: shared buffers (median)", "buffers", derived: true).Add(Median(buffers.TakeLast(tenth)));
        }
        set.Facts["explainDispatches"] = dispatches.Count;
        Add("the dispatcher's query, first after the commit", dispatches.FirstOrDefault());
        Add("the dispatcher's query, last (its poll after everything was delivered)", dispatches.Count > 1 ? dispatches[^1] : null);

        // The app is stopped: the bench's own EXPLAIN on the same table, before and after a VACUUM.
        // The app's own statements, with the parameters written in.
        var dispatcherSql = WebhookDispatch.WaitingSql;
        var formSql = WebhookJobs.NextMessageSql
            .Replace("@id", webhookId.ToString()).Replace("@max", "100").Replace("@now", "now()")
            .Replace("@lanes", "(SELECT lanes FROM webhooks WHERE id = " + webhookId + ")").Replace("@lane", "1");
        var events = await database.ScalarAsync<long>("SELECT count(*) FROM webhook_events");
        Add($"the bench's EXPLAIN: the dispatcher's query, nothing pending, {events:N0} events, before a VACUUM", await ExplainSqlAsync(database, dispatcherSql));
        Add("the bench's EXPLAIN: forming a message with nothing pending (rolled back), before a VACUUM", await ExplainSqlAsync(database, formSql));
        await database.ExecuteAsync("VACUUM ANALYZE webhook_events");
        Add("the same dispatcher's query after VACUUM ANALYZE webhook_events", await ExplainSqlAsync(database, dispatcherSql));
        Add("forming a message with nothing pending, after the VACUUM", await ExplainSqlAsync(database, formSql));
        await RestoreAsync(database);
        await JitAsync(set, database, webhookId);

        var plans = text.ToString();
        Explanations.Add(($"Webhooks at N={orders:N0}: the plans of the trigger and of the delivery's statements", plans));
        set.Facts["plans"] = plans;

        // The statement's whole: the first Buffers line (its top node), hit + read.
        static double Buffers(string entry)
        {
            var line = Regex.Match(entry, @"Buffers: shared ([^\n]*)");
            if (!line.Success)
                return double.NaN;
            return Regex.Matches(line.Groups[1].Value, @"(hit|read)=(\d+)").Sum(m => double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
        }
    }

    // A large-scope sync runs under SET LOCAL enable_nestloop = off (SyncSql.BulkSettingsSql).
    // The trigger's join with webhooks (w.events @> ARRAY[e.type]) has no equality, so a nested
    // loop is its only plan: disabled, it costs 10^10, past jit_above_cost and the inlining and
    // optimisation thresholds. One customer's email changed by SQL (rolled back: the ledger
    // writes one row, the trigger no event: customer.updated is not subscribed), 5 times each:
    // as a request runs it, under the sync's settings, those settings with jit = off, and under
    // them with no enabled subscription.
    private async Task JitAsync(FigureSet set, BenchDatabase database, long webhookId)
    {
        var customer = await database.ScalarAsync<long>("SELECT min(id) FROM customers");
        (string Key, string Name, string Settings, bool Enabled)[] variants =
        [
            ("default", "defaults (as a request or a small-scope sync runs it)", "", true),
            ("bulk", "under the sync's SET LOCAL enable_nestloop = off", "SET LOCAL enable_nestloop = off;", true),
            ("bulkJitOff", "the same with SET LOCAL jit = off", "SET LOCAL enable_nestloop = off; SET LOCAL jit = off;", true),
            ("bulkNoSubscription", "the sync's settings, no enabled subscription", "SET LOCAL enable_nestloop = off;", false),
        ];
        for (var run = 1; run <= 5; run++)
        {
            foreach (var variant in variants)
            {
                await database.ExecuteAsync($"UPDATE webhooks SET enabled = {variant.Enabled} WHERE id = {webhookId}");
                var ms = await database.TimeAsync($"""
                    BEGIN;
                    {variant.Settings}
                    UPDATE customers SET email = email || '.x' WHERE id = {customer};
                    ROLLBACK;
                    """);
                set.Get($"jit.{variant.Key}", $"one customer's email UPDATE (rolled back), trigger on: {variant.Name}", "ms").Add(ms);
            }
        }
        await database.ExecuteAsync($"UPDATE webhooks SET enabled = true WHERE id = {webhookId}");
        Check(set, "jitNoEventsWritten", await database.ScalarAsync<long>("SELECT count(*) FROM webhook_events WHERE message_id IS NULL"), 0L);
    }

    private static double Median(IEnumerable<double> values)
    {
        var figure = new Figure("", "", "");
        foreach (var value in values)
            figure.Add(value);
        return figure.Median;
    }

    private static async Task<string> ExplainSqlAsync(BenchDatabase database, string sql)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var command = new Npgsql.NpgsqlCommand($"EXPLAIN (ANALYZE, BUFFERS) {sql}", connection, transaction);
        var lines = new System.Text.StringBuilder();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
                lines.AppendLine(reader.GetString(0));
        }
        await transaction.RollbackAsync();
        return lines.ToString();
    }

    private static Task<long> MaxIdAsync(BenchDatabase database, string table) =>
        database.ScalarAsync<long>($"SELECT coalesce(max(id), 0) FROM {table}");

    private static async Task<string> CategoriesAsync(BenchDatabase database) =>
        await database.ScalarAsync<string>("SELECT string_agg(category || ' ' || n, ', ' ORDER BY category) FROM (SELECT category, count(*) n FROM customers GROUP BY 1) x");

    // Pairs alternate which of with and without runs first; the last pair ends with "with".
    private IEnumerable<bool> PairOrder(int pair) => (options.Runs - pair) % 2 == 0 ? [false, true] : [true, false];

    private static void Check<T>(FigureSet set, string name, T actual, T expected)
    {
        if (EqualityComparer<T>.Default.Equals(actual, expected))
        {
            set.Facts.TryAdd(name, "exact");
            return;
        }
        set.Facts[name] = $"WRONG: {actual}, expected {expected}";
        Benchmark.Log($"WARNING: {name}: {actual}, expected {expected}");
    }

    // As bench/ledger.sh: before each pair, wait (polling every 15 s, at most --max-wait seconds
    // in all) until no test run of this project is going on the shared machine.
    private async Task WaitQuietAsync(FigureSet set)
    {
        while (_waitedSeconds < options.MaxWaitSeconds && LedgerBenchmark.TestRunGoing() is { } test)
        {
            if (_waitedSeconds % 60 == 0)
                Benchmark.Log($"a test run is going ({test}); waiting (load {Report.LoadAverage()})");
            await Task.Delay(TimeSpan.FromSeconds(15));
            _waitedSeconds += 15;
        }
        set.Facts["waitedForTestRunsSeconds"] = _waitedSeconds;
    }

    private static IEnumerable<GeneratedOrder> Range(OrderGenerator data, int from, int count)
    {
        for (var i = from; i < from + count; i++)
            yield return data[i];
    }
}
