using System.Collections.Concurrent;
using System.Diagnostics;

namespace Crm.Bench;

// Issue 23 §2: the adaptive write window (Crm:Sync:WriteBatchWindow) against the old fixed
// one (Crm:Sync:AdaptiveWriteWindow=false), in the same run: app processes of each kind in
// turn (old, new, old, new) on the loaded database, one at a time (a second app's job
// servers would run the first one's jobs). Each measures, from outside:
// - idle single writes: POST /api/orders for a customer, then its row polled until its
//   statistics include the order; each write waits until no pending sync started within the
//   window (an idle service) before it is sent;
// - a burst: BurstWrites order writes from BurstClients concurrent clients over
//   BurstCustomers customers; the sync jobs they made (distinct syncJobId answered), the
//   time from the last write's answer until every one of those customers is exact, and each
//   write's wait from its answer until the job it was answered with succeeded (a client
//   following its syncJobId; the jobs polled every 25 ms meanwhile).
public sealed partial class Benchmark
{
    private const int IdleWriteSamples = 30;
    private const int WindowRounds = 2;
    private const int BurstWrites = 10_000;
    private const int BurstClients = 8;
    private const int BurstCustomers = 2_000;

    // The app's default window, which the bench does not change; an idle write waits this
    // plus a margin after the previous customer was exact.
    private static readonly TimeSpan WriteWindow = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan IdleGap = WriteWindow + TimeSpan.FromMilliseconds(200);

    private async Task MeasureWriteWindowAsync(FigureSet set, BenchDatabase database)
    {
        await database.SettleAsync("orders", "customers");
        var sample = await database.SampleCustomersAsync(IdleWriteSamples * 2 * WindowRounds + BurstCustomers, seed: 20261206);
        if (sample.Count < IdleWriteSamples * 2 * WindowRounds + 10)
        {
            Log($"write window figures: only {sample.Count} customers, skipped");
            return;
        }
        var idleCustomers = sample.GetRange(0, IdleWriteSamples * 2 * WindowRounds);
        var burstCustomers = sample.GetRange(idleCustomers.Count, sample.Count - idleCustomers.Count);
        var added = new ConcurrentBag<long>();
        try
        {
            var next = 0;
            for (var round = 0; round < WindowRounds; round++)
            {
                foreach (var adaptive in new[] { false, true })
                {
                    var kind = adaptive ? "adaptive" : "fixed";
                    Dictionary<string, string>? settings = adaptive ? null : new() { ["Crm__Sync__AdaptiveWriteWindow"] = "false" };
                    await using var app = await AppUnderTest.StartAsync(options.AppDll, database.ConnectionString, AppLog($"app-window-{kind}"), settings);
                    await MeasureIdleWritesAsync(set, kind, database, app, idleCustomers.GetRange(next, IdleWriteSamples), added);
                    next += IdleWriteSamples;
                    await MeasureBurstAsync(set, kind, database, app, burstCustomers, added);
                }
            }
        }
        finally
        {
            if (!added.IsEmpty)
                await database.DeleteOrdersAsync(added);
        }
        foreach (var kind in new[] { "fixed", "adaptive" })
        {
            var exact = set.Find($"window.{kind}.idle.exact")!;
            AddP99(set, exact, $"window.{kind}.idle.exact.p99", $"{kind} window: idle single write → customer exact, p99 of {exact.Samples.Count}",
                kind == "adaptive" ? Target.AtMost(250, "ms") : null);
        }
        var fixedP50 = set.Find("window.fixed.idle.exact")!.Median;
        var adaptiveP50 = set.Find("window.adaptive.idle.exact")!.Median;
        set.Get("window.idle.ratio", "idle single write → exact, p50: adaptive / fixed", "×", derived: true).Add(adaptiveP50 / fixedP50);
    }

    // One write at a time, each after an idle gap, each for another customer.
    private static async Task MeasureIdleWritesAsync(
        FigureSet set, string kind, BenchDatabase database, AppUnderTest app, List<SampledCustomer> customers, ConcurrentBag<long> added)
    {
        var exact = set.Get($"window.{kind}.idle.exact",
            $"{kind} window: idle single write → customer exact, p50 of {IdleWriteSamples - WarmUpSamples}×{WindowRounds} (min–max)", "ms");
        var notExact = 0;
        for (var i = 0; i < customers.Count; i++)
        {
            var customer = customers[i];
            await Task.Delay(IdleGap);
            var stopwatch = Stopwatch.StartNew();
            var (order, _) = await WriteOrderAsync(app, customer, 300m);
            added.Add((long)order["id"]!);
            var expected = await database.CompletedTotalsAsync(customer.Phone);
            // Each round starts a new app: its first writes pay for the JIT and the first
            // connections (about 0.7 s against 0.05 s), which no running service does.
            if (await WaitExactAsync(database, customer.Id, expected, stopwatch) is not { } ms)
                notExact++;
            else if (i >= WarmUpSamples)
                exact.Add(ms);
        }
        set.Facts[$"window.{kind}.idleNotExact"] = (set.Facts.GetValueOrDefault($"window.{kind}.idleNotExact") as int? ?? 0) + notExact;
        Log($"{kind} window: idle single writes exact p50 {exact.Median:F0} / p99 {exact.Percentile(0.99):F0} ms so far, {notExact} never exact");
    }

    private static async Task MeasureBurstAsync(
        FigureSet set, string kind, BenchDatabase database, AppUnderTest app, List<SampledCustomer> customers, ConcurrentBag<long> added)
    {
        await Task.Delay(IdleGap);
        var jobIds = new ConcurrentDictionary<string, byte>();
        var clock = Stopwatch.StartNew();
        var lastAnswer = TimeSpan.Zero;
        var gate = new object();
        var written = new ConcurrentDictionary<long, byte>();
        var answers = new ConcurrentBag<(TimeSpan Answered, string JobId)>();
        var succeededAt = new ConcurrentDictionary<string, TimeSpan>();
        var writing = true;
        var poller = Task.Run(async () =>
        {
            while (Volatile.Read(ref writing) || jobIds.Keys.Any(id => !succeededAt.ContainsKey(id)))
            {
                foreach (var id in jobIds.Keys.Where(id => !succeededAt.ContainsKey(id)).ToList())
                {
                    var (job, _) = await app.SendAsync(HttpMethod.Get, $"/api/jobs/{id}", null, System.Net.HttpStatusCode.OK);
                    if ((string?)job["state"] == "Succeeded")
                        succeededAt.TryAdd(id, clock.Elapsed);
                }
                if (clock.Elapsed - lastAnswer > ExactTimeout && !Volatile.Read(ref writing))
                    return;
                await Task.Delay(25);
            }
        });
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, BurstClients).Select(_ => Task.Run(async () =>
        {
            for (var n = Interlocked.Increment(ref next); n < BurstWrites; n = Interlocked.Increment(ref next))
            {
                var customer = customers[new Random(n).Next(customers.Count)];
                var (order, _) = await WriteOrderAsync(app, customer, 100m + n % 1000);
                written.TryAdd(customer.Id, 0);
                var answered = clock.Elapsed;
                lock (gate)
                    lastAnswer = answered > lastAnswer ? answered : lastAnswer;
                added.Add((long)order["id"]!);
                if ((string?)order["syncJobId"] is { } jobId)
                {
                    jobIds.TryAdd(jobId, 0);
                    answers.Add((answered, jobId));
                }
            }
        })));
        Volatile.Write(ref writing, false);
        var writeSeconds = lastAnswer.TotalSeconds;

        // Every customer written compared with its orders in one query, polled until none differs.
        var ids = written.Keys.ToArray();
        double? freshMs = null;
        while (clock.Elapsed - lastAnswer < ExactTimeout)
        {
            var pollStart = clock.Elapsed;
            if (await database.StaleCustomersAsync(ids) == 0)
            {
                freshMs = Math.Max(0, (pollStart - lastAnswer).TotalMilliseconds);
                break;
            }
            await Task.Delay(DuringSyncPollInterval);
        }
        await poller;
        var waits = set.Get($"window.{kind}.burst.writeToJob", $"{kind} window: a burst write's answer → the job it was answered with succeeded", "ms");
        foreach (var (answered, jobId) in answers)
            waits.Add(succeededAt.TryGetValue(jobId, out var at) ? Math.Max(0, (at - answered).TotalMilliseconds) : double.NaN);
        set.Get($"window.{kind}.burst.jobs", $"{kind} window: sync jobs made by {BurstWrites:N0} writes ({BurstClients} clients, {written.Count:N0} customers)",
            "jobs", kind == "adaptive" ? Target.AtMost(20, "jobs") : null).Add(jobIds.Count);
        set.Get($"window.{kind}.burst.exact", $"{kind} window: last write's answer → every burst customer exact", "ms",
            kind == "adaptive" ? Target.AtMost(1000, "ms") : null).Add(freshMs ?? double.NaN);
        set.Get($"window.{kind}.burst.rate", $"{kind} window: burst write rate", "writes/s").Add(BurstWrites / writeSeconds);
        Log($"{kind} window burst: {BurstWrites:N0} writes in {writeSeconds:F1} s, {jobIds.Count} jobs, " +
            (freshMs is { } f ? $"every customer exact {f:F0} ms after the last answer" : "NOT exact within the timeout"));
    }
}
