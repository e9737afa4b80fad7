using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;

namespace Crm.Bench.Http;

public sealed partial class HttpBench
{
    private static readonly TimeSpan SoakKillInterval = TimeSpan.FromSeconds(25);
    private const int SoakClients = 4;

    // Issue 23's soak: the API in one process (role api), two workers (role worker) with the
    // pending-writes sweeper on (every minute, as in production); order writes from a few
    // clients for --soak-seconds, and every 25 s one worker killed with SIGKILL (the two in
    // turn) and a new one started. Nothing may be lost: afterwards every customer written is
    // exact (its statistics are its completed orders) and no sync request is left pending.
    private async Task SoakAsync()
    {
        Section($"Soak: order writes for {options.SoakSeconds} s through an API process, two workers, one killed every {SoakKillInterval.TotalSeconds:0} s");
        var customers = await db.BurstCustomersAsync(options.BurstCustomers);
        var sweeper = new Dictionary<string, string> { ["Crm__Sync__PendingCron"] = "* * * * *" };
        await using var api = await StartAppAsync("soak-api", "api", sweeper);
        var workers = new ChildProcess[2];
        workers[0] = await StartAppAsync("soak-worker-0", "worker", sweeper);
        workers[1] = await StartAppAsync("soak-worker-1", "worker", sweeper);
        var written = new ConcurrentDictionary<string, byte>();
        var errors = new ConcurrentBag<string>();
        var writes = 0;
        var kills = 0;
        var clock = Stopwatch.StartNew();
        var lastAnswer = TimeSpan.Zero;
        var gate = new object();
        try
        {
            using var http = ApiClient(api.BaseUrl, SoakClients);
            var duration = TimeSpan.FromSeconds(options.SoakSeconds);
            async Task Client(int client)
            {
                for (var n = client; clock.Elapsed < duration; n += SoakClients)
                {
                    var body = OrderBody(n, customers);
                    using var response = await http.PostAsJsonAsync("/api/orders", body);
                    lock (gate)
                        lastAnswer = clock.Elapsed;
                    if (response.StatusCode != HttpStatusCode.Created)
                    {
                        errors.Add($"{(int)response.StatusCode}");
                        continue;
                    }
                    Interlocked.Increment(ref writes);
                    written.TryAdd(customers[new Random(n).Next(customers.Count)].Phone, 0);
                    // A steady stream, not a flood: the two cores also run the workers being killed.
                    await Task.Delay(10);
                }
            }
            var writing = Task.WhenAll(Enumerable.Range(0, SoakClients).Select(c => Task.Run(() => Client(c))));
            while (!writing.IsCompleted)
            {
                // On the clock (25 s, 50 s, …), whatever a replacement took to start.
                var due = SoakKillInterval * (kills + 1) - clock.Elapsed;
                if (await Task.WhenAny(writing, Task.Delay(due > TimeSpan.Zero ? due : TimeSpan.Zero)) == writing)
                    break;
                var victim = kills % 2;
                await workers[victim].KillAsync();
                kills++;
                Console.WriteLine($"  {clock.Elapsed.TotalSeconds:0} s: killed worker {victim} (SIGKILL), {writes:N0} writes so far");
                workers[victim] = await StartAppAsync($"soak-worker-{victim}-{kills}", "worker", sweeper);
            }
            await writing;

            // The killed workers' jobs come back after Crm:Jobs:InvisibilityTimeout (1 min), a
            // claim they held after Crm:Sync:PendingClaimTimeout (2 min, then the sweeper).
            var phones = written.Keys.ToArray();
            var timeout = TimeSpan.FromMinutes(6);
            double? exactSeconds = null;
            long stale = 0, pending = 0;
            while (clock.Elapsed - lastAnswer < timeout)
            {
                var pollStart = clock.Elapsed;
                stale = await db.StaleCustomersAsync(phones);
                pending = await db.ScalarAsync<long>(
                    "SELECT count(*) FROM customer_sync_requests WHERE phone = ANY(@phones) AND version > synced_version", ("phones", phones));
                if (stale == 0 && pending == 0)
                {
                    exactSeconds = Math.Max(0, (pollStart - lastAnswer).TotalSeconds);
                    break;
                }
                await Task.Delay(TimeSpan.FromMilliseconds(200));
            }
            Console.WriteLine($"  {writes:N0} writes over {phones.Length:N0} customers, {kills} workers killed, {errors.Count} errors; " +
                (exactSeconds is { } s ? $"every customer exact {s:0.0} s after the last write" : $"{stale} customers NOT exact, {pending} requests pending after {timeout.TotalMinutes:0} min"));
            report.Add("soak: order writes (API + 2 workers)", writes, "writes");
            report.Add("soak: workers killed (SIGKILL, every 25 s)", kills, "kills");
            report.Add("soak: customers not exact at the end (lost writes)", stale + pending, "customers", "0", stale + pending == 0);
            report.Add("soak: last write → every customer exact", exactSeconds ?? double.NaN, "s");
            report.Details["soak"] = new
            {
                seconds = options.SoakSeconds,
                clients = SoakClients,
                writes,
                customers = phones.Length,
                kills,
                errors = errors.Count,
                staleAtEnd = stale,
                pendingAtEnd = pending,
                exactSecondsAfterLastWrite = exactSeconds,
            };
        }
        finally
        {
            foreach (var worker in workers)
                await worker.DisposeAsync();
        }
    }
}
