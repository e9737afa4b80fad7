using System.Diagnostics;
using System.Net;

namespace Crm.Bench;

// Issue 10: what one customer's work costs as the table grows, measured from outside as a
// client waits for it — request → job Succeeded → the customer's row exact. On the loaded
// database after the syncs (every customer exists and is exact), once per data set, each
// figure over its own random customers, sequentially. Must be flat in N.
public sealed partial class Benchmark
{
    private const int ReadSamples = 200;
    private const int JobSamples = 30;
    private const int WarmUpSamples = 5;
    private const int MaxWritesDuringSync = 3_000;

    // How often a small job's state and a written customer's row are polled: fast enough that
    // the poll adds little to figures of milliseconds, slow enough not to load the 2 cores.
    private static readonly TimeSpan ExactPollInterval = AppUnderTest.FastPollInterval;

    // While a full sync runs: every outstanding write's customer in one query.
    private static readonly TimeSpan DuringSyncPollInterval = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan DuringSyncWriteInterval = TimeSpan.FromMilliseconds(200);

    // A write whose customer is still not exact after this long is reported, not awaited further.
    private static readonly TimeSpan ExactTimeout = TimeSpan.FromMinutes(2);

    private async Task MeasurePerCustomerAsync(FigureSet set, OrderGenerator data, BenchDatabase database, AppUnderTest app)
    {
        bool Measures(string phase) => options.Measures(phase, data.Orders);
        if (!new[] { "reads", "stats-job", "stats-job-phones", "merge", "writes", "writes-during-sync", "erase" }.Any(Measures))
            return;
        if (Measures("erase"))
            await MeasureEraseAsync(set, database, app);

        await database.SettleAsync("orders", "customers");
        // Distinct customers for every figure that writes: [0, 35) statistics jobs, [35, 70)
        // single writes, the rest writes during the full sync. Reads come first and use any.
        var perFigure = WarmUpSamples + JobSamples;
        var sample = await database.SampleCustomersAsync(2 * perFigure + MaxWritesDuringSync, seed: 20261125);
        if (sample.Count < 2 * perFigure + 10)
        {
            Log($"per-customer figures: only {sample.Count} customers, skipped");
            return;
        }
        var added = new List<long>();
        try
        {
            if (Measures("reads"))
                await MeasureReadsAsync(set, app, sample);
            if (Measures("stats-job"))
                await MeasureStatisticsJobAsync(set, database, app, sample.GetRange(0, perFigure), added);
            if (Measures("stats-job-phones"))
                await MeasureSeveralPhonesStatisticsJobAsync(set, database, app,
                    await database.SampleCustomersAsync(perFigure, seed: 20261206), added);
            if (Measures("merge"))
                await MeasureMergeAsync(set, database, app);
            if (Measures("writes"))
                await MeasureWritesAsync(set, database, app, sample.GetRange(perFigure, perFigure), added);
            if (Measures("writes-during-sync"))
                await MeasureWritesDuringFullSyncAsync(set, database, app, sample.GetRange(2 * perFigure, sample.Count - 2 * perFigure), added);
        }
        finally
        {
            // The orders are as generated again for the reference statement (which starts from an
            // empty customers table) and its comparison with our first sync.
            if (added.Count > 0)
                await database.DeleteOrdersAsync(added);
        }
    }

    // GET /api/customers/{id} and GET /api/customers/{id}/orders, one after the other, for
    // random customers: client-timed, sending to the body read.
    private static async Task MeasureReadsAsync(FigureSet set, AppUnderTest app, List<SampledCustomer> sample)
    {
        var customer = set.Get("read.customer", $"GET /api/customers/{{id}}: p50 of {ReadSamples} random customers (min–max)", "ms");
        var orders = set.Get("read.orders", $"GET /api/customers/{{id}}/orders: p50 of {ReadSamples} (min–max)", "ms");
        for (var i = 0; i < WarmUpSamples + ReadSamples; i++)
        {
            var id = sample[i % sample.Count].Id;
            var (_, customerMs) = await app.SendAsync(HttpMethod.Get, $"/api/customers/{id}", null, HttpStatusCode.OK);
            var (_, ordersMs) = await app.SendAsync(HttpMethod.Get, $"/api/customers/{id}/orders", null, HttpStatusCode.OK);
            if (i < WarmUpSamples)
                continue;
            customer.Add(customerMs);
            orders.Add(ordersMs);
        }
        AddP99(set, customer, "read.customer.p99", $"GET /api/customers/{{id}}: p99 of {ReadSamples}");
        AddP99(set, orders, "read.orders.p99", $"GET /api/customers/{{id}}/orders: p99 of {ReadSamples}");
        Log($"reads: customer p50 {customer.Median:F1} / p99 {customer.Percentile(0.99):F1} ms, " +
            $"orders p50 {orders.Median:F1} / p99 {orders.Percentile(0.99):F1} ms");
    }

    // One customer's statistics job: a completed order written straight into `orders` (no sync
    // is requested for it), then POST update-stats, GET /api/jobs/{id} every 3 ms until
    // Succeeded, then the customer's row checked against its orders. `key` and `what` name
    // the figures: the settled table's (stats) and the one right after an import (stats.afterImport).
    private static async Task MeasureStatisticsJobAsync(
        FigureSet set, BenchDatabase database, AppUnderTest app, List<SampledCustomer> customers, List<long> added,
        string key = "stats", string what = "one customer's statistics job", Target? engineTarget = null)
    {
        var engine = set.Get($"{key}.engine", $"{what}: engine time (durationMs), p50 of {JobSamples} (min–max)", "ms", engineTarget);
        var wall = set.Get($"{key}.wall", $"{what}: wall, POST → Succeeded, p50 of {JobSamples} (min–max)", "ms");
        var enqueue = set.Get($"{key}.enqueue", $"{what}: POST update-stats answered (enqueue), p50 of {JobSamples}", "ms");
        var notExact = 0;
        for (var i = 0; i < customers.Count; i++)
        {
            var customer = customers[i];
            added.Add(await database.InsertCompletedOrderAsync(customer, 1_000m + i));
            var stopwatch = Stopwatch.StartNew();
            var (accepted, postMs) = await app.SendAsync(HttpMethod.Post, $"/api/customers/{customer.Id}/update-stats", null, HttpStatusCode.Accepted);
            var job = await app.WaitJobAsync((string)accepted["jobId"]!, stopwatch, ExactPollInterval);
            var expected = await database.CompletedTotalsAsync(customer.Phone);
            var actual = (await database.CustomerTotalsAsync([customer.Id])).GetValueOrDefault(customer.Id);
            if (actual != expected)
            {
                notExact++;
                Log($"WARNING: statistics job {job.JobId} succeeded but customer {customer.Id} has {actual}, its orders {expected}");
            }
            if (i < WarmUpSamples)
                continue;
            engine.Add(job.DurationMs);
            wall.Add(job.WallMs);
            enqueue.Add(postMs);
        }
        AddP99(set, engine, $"{key}.engine.p99", $"{what}: engine time, p99 of {JobSamples}");
        AddP99(set, wall, $"{key}.wall.p99", $"{what}: wall, p99 of {JobSamples}");
        AddP99(set, enqueue, $"{key}.enqueue.p99", $"{what}: POST update-stats answered (enqueue), p99 of {JobSamples}",
            key == "stats" ? Target.AtMost(10, "ms") : null);
        set.Facts[key == "stats" ? "statsJobNotExact" : "statsAfterImportNotExact"] = notExact;
        Log($"{what}: engine p50 {engine.Median:F1} / p99 {engine.Percentile(0.99):F1} ms, " +
            $"wall p50 {wall.Median:F1} / p99 {wall.Percentile(0.99):F1} ms, enqueue p99 {enqueue.Percentile(0.99):F1} ms, {notExact} not exact");
    }

    // Issue 23: one customer's statistics job from the moment the import's sync succeeded, as a
    // user meets it: nothing settled in between (the bench keeps autovacuum off, so the tables
    // hold only the statistics the app's own work left: TableStatistics).
    private async Task MeasureStatisticsJobAfterImportAsync(FigureSet set, BenchDatabase database, AppUnderTest app)
    {
        var sample = await database.SampleCustomersAsync(WarmUpSamples + JobSamples, seed: 20261206);
        var added = new List<long>();
        try
        {
            await MeasureStatisticsJobAsync(set, database, app, sample, added, "stats.afterImport",
                "one customer's statistics job right after the import's sync", Target.AtMost(10, "ms"));
        }
        finally
        {
            await database.DeleteOrdersAsync(added);
        }
    }

    // Single order writes, one at a time: POST /api/orders for an existing customer's phone (in
    // another spelling), then the customer's row polled every 3 ms until its statistics include
    // the order. Each write waits for the previous one's customer, so each gets a job of its own;
    // sent less than Crm:Sync:WriteBatchWindow after the previous sync started, it waits the
    // window (issue 23). Idle writes, and the old fixed window beside them: Benchmark.WriteWindow.cs.
    private static async Task MeasureWritesAsync(
        FigureSet set, BenchDatabase database, AppUnderTest app, List<SampledCustomer> customers, List<long> added)
    {
        var exact = set.Get("write.exact", $"single order write, back to back → customer exact, p50 of {JobSamples} (min–max)", "ms");
        var post = set.Get("write.post", $"POST /api/orders answered, p50 of {JobSamples}", "ms");
        var notExact = 0;
        for (var i = 0; i < customers.Count; i++)
        {
            var customer = customers[i];
            var stopwatch = Stopwatch.StartNew();
            var (order, postMs) = await WriteOrderAsync(app, customer, 500m + i);
            added.Add((long)order["id"]!);
            var expected = await database.CompletedTotalsAsync(customer.Phone);
            var exactMs = await WaitExactAsync(database, customer.Id, expected, stopwatch);
            if (exactMs is null)
            {
                notExact++;
                Log($"WARNING: customer {customer.Id} not exact {ExactTimeout.TotalSeconds:F0} s after its order {order["id"]} was written");
                if (notExact == 3)
                {
                    Log("WARNING: three writes never became exact: the single-write figure is void");
                    break;
                }
                continue;
            }
            // What a client reads once the row is exact.
            var (shown, _) = await app.SendAsync(HttpMethod.Get, $"/api/customers/{customer.Id}", null, HttpStatusCode.OK);
            if ((int)shown["totalOrders"]! != expected.Orders || (decimal)shown["totalSpent"]! != expected.Spent)
                Log($"WARNING: GET /api/customers/{customer.Id} shows {shown["totalOrders"]} / {shown["totalSpent"]}, expected {expected}");
            if (i < WarmUpSamples)
                continue;
            exact.Add(exactMs.Value);
            post.Add(postMs);
        }
        var p99 = AddP99(set, exact, "write.exact.p99", $"single order write → customer exact, p99 of {JobSamples}");
        AddP99(set, post, "write.post.p99", $"POST /api/orders answered, p99 of {JobSamples}");
        set.Facts["writesNotExact"] = notExact;
        Log($"single writes, back to back: exact p50 {exact.Median:F0} / p99 {p99:F0} ms, " +
            $"POST p99 {post.Percentile(0.99):F1} ms, {notExact} never exact");
    }

    // A force full sync of the loaded database; while it runs, one single order write about
    // every 200 ms, each for another customer, each timed from its POST until its customer's
    // row includes it (every outstanding customer polled in one query every 5 ms). Customers
    // keep being checked until the end: a full sync that overwrote a newer result with its
    // older snapshot would show as a regression.
    private static async Task MeasureWritesDuringFullSyncAsync(
        FigureSet set, BenchDatabase database, AppUnderTest app, List<SampledCustomer> customers, List<long> added)
    {
        var exact = set.Get("duringSync.exact", "write during a full sync → customer exact: p50 (min–max)", "ms");
        var syncWall = set.Get("duringSync.sync.wall", "the full sync (force) those writes raced: wall", "ms");
        var syncEngine = set.Get("duringSync.sync.engine", "the full sync (force) those writes raced: engine time", "ms");

        var writes = new List<TrackedWrite>();
        var syncClock = Stopwatch.StartNew();
        var jobId = await app.StartJobAsync("/api/sync", new { mode = "force" });
        var sync = app.WaitJobAsync(jobId, syncClock);
        var writing = true;
        var poller = TrackAsync(database, writes, () => writing);
        try
        {
            for (var k = 1; k <= customers.Count; k++)
            {
                var wait = DuringSyncWriteInterval * k - syncClock.Elapsed;
                if (wait > TimeSpan.Zero)
                    await Task.WhenAny(Task.Delay(wait), sync);
                if (sync.IsCompleted)
                    break;
                var customer = customers[k - 1];
                var started = Stopwatch.GetTimestamp();
                var offset = syncClock.Elapsed.TotalMilliseconds;
                var (order, _) = await WriteOrderAsync(app, customer, 700m + k);
                added.Add((long)order["id"]!);
                var expected = await database.CompletedTotalsAsync(customer.Phone);
                lock (writes)
                    writes.Add(new TrackedWrite(customer.Id, expected, started, offset));
            }
        }
        finally
        {
            // Customers keep being watched until the sync has ended, then until all are exact.
            try
            {
                await sync;
            }
            finally
            {
                writing = false;
            }
            await poller;
        }
        var outcome = await sync;
        syncWall.Add(outcome.WallMs);
        syncEngine.Add(outcome.DurationMs);

        var landed = writes.Count;
        var never = writes.Count(w => w.ExactMs is null);
        foreach (var write in writes.Where(w => w.ExactMs is not null))
            exact.Add(write.ExactMs!.Value);
        var p99 = AddP99(set, exact, "duringSync.exact.p99", "write during a full sync → customer exact: p99", Target.AtMost(2000, "ms"));
        set.Get("duringSync.writes", "writes that landed during that full sync", "writes", derived: true).Add(landed);
        set.Facts["duringSyncNeverExact"] = never;
        set.Facts["duringSyncRegressions"] = writes.Sum(w => w.Regressions);
        // Per write: ms after the sync's POST it was written, ms until its customer was exact.
        set.Facts["duringSyncWrites"] = writes.Select(w => new[] { Math.Round(w.OffsetMs), w.ExactMs is { } e ? Math.Round(e, 1) : -1 }).ToList();
        if (never > 0 || writes.Sum(w => w.Regressions) > 0)
            Log($"WARNING: writes during the full sync: {never} never exact, {writes.Sum(w => w.Regressions)} customers exact then stale again");
        Log($"writes during a full sync ({syncWall.Median / 1000:F1} s): {landed} writes, exact p50 {exact.Median:F0} / p99 {p99:F0} ms");
    }

    private sealed class TrackedWrite(long customerId, CustomerTotals expected, long startedTimestamp, double offsetMs)
    {
        public long CustomerId { get; } = customerId;
        public CustomerTotals Expected { get; } = expected;
        public long StartedTimestamp { get; } = startedTimestamp;
        public double OffsetMs { get; } = offsetMs;
        public double? ExactMs { get; set; }
        public int Regressions { get; set; }
    }

    // Polls every tracked customer until the writing has ended and all are exact (or the timeout).
    private static async Task TrackAsync(BenchDatabase database, List<TrackedWrite> writes, Func<bool> writing)
    {
        Stopwatch? since = null;
        while (true)
        {
            var stillWriting = writing();
            TrackedWrite[] current;
            lock (writes)
                current = [.. writes];
            if (current.Length > 0)
            {
                var totals = await database.CustomerTotalsAsync(current.Select(w => w.CustomerId));
                var now = Stopwatch.GetTimestamp();
                foreach (var write in current)
                {
                    var isExact = totals.GetValueOrDefault(write.CustomerId) == write.Expected;
                    if (write.ExactMs is null && isExact)
                        write.ExactMs = Stopwatch.GetElapsedTime(write.StartedTimestamp, now).TotalMilliseconds;
                    else if (write.ExactMs is not null && !isExact)
                    {
                        write.Regressions++;
                        write.ExactMs = null;
                    }
                }
            }
            if (!stillWriting)
            {
                since ??= Stopwatch.StartNew();
                if (current.All(w => w.ExactMs is not null) || since.Elapsed > ExactTimeout)
                    return;
            }
            await Task.Delay(DuringSyncPollInterval);
        }
    }

    // The customer's row polled until it holds the expected totals: ms since the stopwatch
    // started (before the write's POST), or null after ExactTimeout.
    private static async Task<double?> WaitExactAsync(BenchDatabase database, long customerId, CustomerTotals expected, Stopwatch stopwatch)
    {
        while (stopwatch.Elapsed < ExactTimeout)
        {
            var totals = await database.CustomerTotalsAsync([customerId]);
            if (totals.GetValueOrDefault(customerId) == expected)
                return stopwatch.Elapsed.TotalMilliseconds;
            await Task.Delay(ExactPollInterval);
        }
        return null;
    }

    // A completed order for the customer's phone, spelled as a shop's form would ("8 (9xx) …").
    private static Task<(System.Text.Json.Nodes.JsonObject Body, double Ms)> WriteOrderAsync(AppUnderTest app, SampledCustomer customer, decimal amount) =>
        app.SendAsync(HttpMethod.Post, "/api/orders", new
        {
            customerName = customer.Name,
            customerPhone = Spelled(customer.Phone),
            totalAmount = amount,
            status = "completed",
        }, HttpStatusCode.Created);

    private static string Spelled(string e164) =>
        e164.Length == 12 && e164.StartsWith("+7", StringComparison.Ordinal)
            ? $"8 ({e164[2..5]}) {e164[5..8]}-{e164[8..10]}-{e164[10..]}"
            : e164;

    private static double AddP99(FigureSet set, Figure of, string key, string name, Target? target = null)
    {
        var p99 = of.Percentile(0.99);
        set.Get(key, name, of.Unit, target, derived: true).Add(p99);
        return p99;
    }
}
