using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Crm.Tests.Reliability;

// Two app processes with job servers on one database, written to at once. Twenty concurrent
// creates of one phone are CustomersCrudTests.ConcurrentCreatesOfOnePhoneCreateExactlyOneCustomer,
// fifty concurrent order writes through one process OrdersSyncTests.ABurstOfWritesForOneCustomerCoalescesAndEndsExact.
public class RaceTests(RealClockCrmApiFactory factory, ITestOutputHelper output) : IClassFixture<RealClockCrmApiFactory>
{
    private static readonly TimeSpan RaceDuration = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan SettleDeadline = TimeSpan.FromMinutes(3);

    private const int HotPhones = 40;

    private static string Hot(int i) => $"+79981{i:D6}";

    // The spellings a shop sends for one number.
    private static string Spelling(string e164, int variant)
    {
        var digits = e164[2..];
        return (variant % 4) switch
        {
            0 => e164,
            1 => $"8 ({digits[..3]}) {digits[3..6]}-{digits[6..8]}-{digits[8..]}",
            2 => $"+7 {digits[..3]} {digits[3..6]} {digits[6..8]} {digits[8..]}",
            _ => "8" + digits,
        };
    }

    [Fact]
    public async Task FiftyConcurrentOrderWritesThroughTwoProcessesInFourSpellingsEndExact()
    {
        await using var second = new SharedDatabaseFactory(factory);
        var phone = "+79982000050";
        var writes = await Task.WhenAll(Enumerable.Range(1, 50).Select(async i =>
        {
            var client = (i % 2 == 0 ? (CrmApiFactory)factory : second).CreateClient();
            var response = await client.PostAsJsonAsync("/api/orders", new
            {
                customerName = "Гонка Двух Процессов", customerPhone = Spelling(phone, i), totalAmount = i, status = "completed",
            });
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            return await response.ReadJsonAsync();
        }));

        var client = factory.CreateClient();
        foreach (var jobId in writes.Select(w => (string)w["syncJobId"]!).Distinct())
            await client.JobAsync(jobId);

        await using var db = factory.CreateDbContext();
        var customer = await db.Customers.AsNoTracking().SingleAsync(c => c.Phone == phone);
        Assert.Equal((50, 1275m, 25.50m), (customer.TotalOrders, customer.TotalSpent, customer.AverageOrder));
        var request = await db.CustomerSyncRequests.AsNoTracking().SingleAsync(r => r.Phone == phone);
        Assert.Equal((50L, 50L), (request.Version, request.SyncedVersion));
    }

    // For 20 seconds: full syncs of every mode queued from both processes, order creates and
    // changes (amounts, statuses, phones) for 40 overlapping phones in four spellings, customer
    // creates for the same phones, statistics and category jobs. Then: every request
    // answered without a 5xx, every job succeeded on its first attempt (no deadlock, no unique
    // violation), no two full syncs ever overlapped, and every customer's statistics and
    // category equal a SQL aggregate of the orders.
    [Fact]
    public async Task TwoProcessesUnderFullSyncsAndOverlappingWritesNeverOverlapNeverFailAndEndExact()
    {
        await using (var db = factory.CreateDbContext())
        {
            // 30 000 orders over 3 000 phones, the first 20 hot phones among them, dated away
            // from the 180-day inactivity boundary.
            await db.Database.ExecuteSqlRawAsync("""
                INSERT INTO orders (customer_name, customer_phone, normalized_phone, customer_email, delivery_city,
                                    total_amount, status, created_at, updated_at)
                SELECT 'Покупатель ' || (i % 3000), '8998' || lpad((1000000 + i % 3000)::text, 7, '0'),
                       '+7998' || lpad((1000000 + i % 3000)::text, 7, '0'),
                       CASE WHEN i % 3 = 0 THEN '' ELSE 'buyer' || (i % 3000) || '@example.com' END,
                       (ARRAY['Москва','Казань','','Тула'])[1 + i % 4],
                       (i % 97) * 10.5, (ARRAY['completed','completed','cancelled','new'])[1 + (i / 3) % 4],
                       now() - make_interval(days => (i * 7) % 400, hours => 12), now()
                FROM generate_series(1, 30000) AS i
                """);
        }

        await using var second = new SharedDatabaseFactory(factory);
        var hosts = new CrmApiFactory[] { factory, second };
        foreach (var host in hosts)
            host.CreateClient(); // starts each process's job servers
        var monitoring = factory.Services.GetRequiredService<JobStorage>().GetMonitoringApi();
        await Waiting.UntilAsync(() => Task.FromResult(monitoring.Servers().Count(s => s.Queues.Contains("bulk"))),
            count => count == 2, "both processes' bulk servers to announce themselves");

        var jobIds = new ConcurrentBag<string>();
        var fullSyncJobIds = new ConcurrentBag<string>();
        var answers = new ConcurrentBag<(string Request, int Status, string Body)>();
        var orderIds = new ConcurrentBag<long>();
        var customerIds = new ConcurrentBag<long>();
        var race = Stopwatch.StartNew();
        bool Running() => race.Elapsed < RaceDuration;

        async Task<JsonNode?> SendAsync(HttpClient client, HttpMethod method, string path, object? body, params HttpStatusCode[] expected)
        {
            var response = await client.SendAsync(new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) });
            var text = await response.Content.ReadAsStringAsync();
            answers.Add(($"{method} {path}", (int)response.StatusCode, text));
            Assert.True(expected.Contains(response.StatusCode), $"{method} {path} → {(int)response.StatusCode}: {text}");
            return text.Length > 0 ? JsonNode.Parse(text) : null;
        }

        void Collect(JsonNode? node, params string[] fields)
        {
            foreach (var field in fields)
            {
                if ((string?)node?[field] is { } id)
                    jobIds.Add(id);
            }
        }

        async Task OrderWriter(int seed)
        {
            var random = new Random(seed);
            var clients = hosts.Select(h => h.CreateClient()).ToArray();
            for (var n = 0; Running(); n++)
            {
                var order = await SendAsync(clients[n % 2], HttpMethod.Post, "/api/orders", new
                {
                    customerName = $"Горячий {random.Next(1000)}",
                    customerPhone = Spelling(Hot(random.Next(HotPhones)), random.Next(4)),
                    customerEmail = random.Next(3) == 0 ? "" : $"hot{random.Next(100)}@example.com",
                    deliveryCity = random.Next(2) == 0 ? "Самара" : "",
                    totalAmount = random.Next(1, 200_000) / 100m,
                    status = new[] { "new", "processing", "completed", "completed", "cancelled" }[random.Next(5)],
                    createdAt = DateTimeOffset.UtcNow.AddDays(-random.Next(0, 100)).AddMinutes(-random.Next(1, 1000)),
                }, HttpStatusCode.Created);
                orderIds.Add((long)order!["id"]!);
                Collect(order, "syncJobId");
            }
        }

        async Task OrderChanger(int seed)
        {
            var random = new Random(seed);
            var clients = hosts.Select(h => h.CreateClient()).ToArray();
            for (var n = 0; Running(); n++)
            {
                var ids = orderIds.ToArray();
                if (ids.Length == 0)
                {
                    await Task.Yield();
                    continue;
                }
                object change = random.Next(3) switch
                {
                    0 => new { status = new[] { "completed", "cancelled", "processing" }[random.Next(3)] },
                    1 => new { totalAmount = random.Next(0, 500_000) / 100m },
                    _ => new { customerPhone = Spelling(Hot(random.Next(HotPhones)), random.Next(4)) },
                };
                var patched = await SendAsync(clients[n % 2], HttpMethod.Patch, $"/api/orders/{ids[random.Next(ids.Length)]}", change, HttpStatusCode.OK);
                Collect(patched, "syncJobId", "previousCustomerSyncJobId");
            }
        }

        async Task FullSyncs()
        {
            SyncMode[] modes = [SyncMode.Default, SyncMode.Force, SyncMode.StatsOnly];
            var clients = hosts.Select(h => h.CreateClient()).ToArray();
            for (var n = 0; Running(); n++)
            {
                var mode = modes[n % 3];
                // Straight into the queue from either process (so they pile up and both bulk servers
                // compete), or through the API, which hands back a job of that mode still waiting.
                var jobId = n % 2 == 0
                    ? hosts[n / 2 % 2].Services.GetRequiredService<IBackgroundJobClient>()
                        .Enqueue<SyncJobs>(j => j.FullSyncAsync(mode, null, CancellationToken.None))
                    : (string)(await SendAsync(clients[n / 2 % 2], HttpMethod.Post, "/api/sync",
                        new { mode = Crm.Jobs.Data.EnumText.ToText(mode) }, HttpStatusCode.Accepted))!["jobId"]!;
                jobIds.Add(jobId);
                fullSyncJobIds.Add(jobId);
                if (n % 5 == 4)
                    Collect(await SendAsync(clients[n % 2], HttpMethod.Post, "/api/categories/recalculate", null, HttpStatusCode.Accepted), "jobId");
                // Paced by the jobs themselves: at most a few full syncs waiting at any time.
                await Waiting.UntilAsync(() => Task.FromResult(monitoring.EnqueuedCount("bulk")), queued => queued < 3 || !Running(),
                    "the bulk queue to drain a little", SettleDeadline);
            }
        }

        async Task CustomerEditor(int seed)
        {
            var random = new Random(seed);
            var clients = hosts.Select(h => h.CreateClient()).ToArray();
            for (var n = 0; Running(); n++)
            {
                var client = clients[n % 2];
                var phone = Hot(random.Next(HotPhones + 10)); // ten phones that only the API writes
                // No unconditional PATCH of customers here: see CustomerEditUnderChurnTests.
                switch (random.Next(3))
                {
                    case 0:
                        var created = await SendAsync(client, HttpMethod.Post, "/api/customers",
                            new { name = $"Создан вручную {n}", phone = Spelling(phone, random.Next(4)), city = "Уфа" },
                            HttpStatusCode.Created, HttpStatusCode.Conflict);
                        customerIds.Add((long)(created!["id"] ?? created["existingId"])!);
                        break;
                    case 2 when !customerIds.IsEmpty:
                        var some = customerIds.ToArray();
                        Collect(await SendAsync(client, HttpMethod.Post, $"/api/customers/{some[random.Next(some.Length)]}/update-stats", null,
                            HttpStatusCode.Accepted), "jobId");
                        break;
                    default:
                        await SendAsync(client, HttpMethod.Get, $"/api/customers?search={Uri.EscapeDataString(phone)}", null, HttpStatusCode.OK);
                        break;
                }
            }
        }

        await Task.WhenAll(OrderWriter(1), OrderWriter(2), OrderWriter(3), OrderChanger(4), FullSyncs(), CustomerEditor(5));
        var raced = race.Elapsed;

        // Every job succeeds, on its first attempt.
        var check = factory.CreateClient();
        var distinctJobs = jobIds.Distinct().ToList();
        var settle = Stopwatch.StartNew();
        foreach (var jobId in distinctJobs)
        {
            var job = await Waiting.UntilAsync(
                async () => await (await check.GetAsync($"/api/jobs/{jobId}")).ReadJsonAsync(),
                j => (string?)j["state"] is "Succeeded" or "Failed" or "Deleted" || (int)j["retryCount"]! > 0,
                $"job {jobId} to finish", SettleDeadline);
            Assert.True((string?)job["state"] == "Succeeded" && (int)job["retryCount"]! == 0, $"job {jobId}: {job.ToJsonString()}");
        }
        Assert.All(answers, a => Assert.True(a.Status < 500, $"{a.Request} → {a.Status}: {a.Body}"));

        await using var checkDb = factory.CreateDbContext();
        var runs = await checkDb.SyncRuns.AsNoTracking().OrderBy(r => r.StartedAt).ThenBy(r => r.Id).ToListAsync();
        Assert.DoesNotContain(runs, r => r.Status != SyncRunStatus.Succeeded);
        // Full syncs hold the full-sync lock for their whole run: no two overlap. Order-write
        // syncs run between a full sync's chunks (each chunk holds the bulk lock
        // exclusively, as they do), so they may overlap a full sync's [start, finish], never
        // one another; the customers' exactness below is what says no chunk overwrote them.
        var fullSyncs = fullSyncJobIds.ToHashSet();
        var fullRuns = runs.Where(r => r.JobId is not null && fullSyncs.Contains(r.JobId)).ToList();
        Assert.True(fullRuns.Count >= 10, $"only {fullRuns.Count} full sync runs");
        var autoRuns = runs.Where(r => r.Mode == SyncMode.Auto).ToList();
        foreach (var run in fullRuns.Concat(autoRuns))
        {
            var full = run;
            var kind = run.Mode == SyncMode.Auto ? autoRuns : fullRuns;
            var overlapping = kind.FirstOrDefault(r => r.Id != full.Id && r.StartedAt < full.FinishedAt && r.FinishedAt > full.StartedAt);
            Assert.True(overlapping is null,
                $"Run {overlapping?.Id} ({overlapping?.Mode}, job {overlapping?.JobId}, {overlapping?.StartedAt:O} – {overlapping?.FinishedAt:O}) overlaps " +
                $"run {full.Id} ({full.Mode}, job {full.JobId}, {full.StartedAt:O} – {full.FinishedAt:O})");
        }

        var wrong = await WrongCustomersAsync();
        Assert.True(wrong.Count == 0, $"{wrong.Count} customers differ from their orders, e.g.:\n{string.Join('\n', wrong.Take(5))}");

        // Which job servers ran the full syncs (both processes, as a rule; not asserted).
        var servers = fullSyncJobIds.Distinct()
            .SelectMany(id => monitoring.JobDetails(id).History.Where(h => h.StateName == "Processing"))
            .Select(h => h.Data.TryGetValue("ServerId", out var server) ? server : "?")
            .Distinct().Count();
        output.WriteLine($"{raced.TotalSeconds:F1} s of racing: {answers.Count} requests ({answers.Count(a => a.Request.StartsWith("POST /api/orders"))} order creates, " +
                         $"{answers.Count(a => a.Request.StartsWith("PATCH /api/orders"))} order changes, {answers.Count(a => a.Status == 409)} 409s), " +
                         $"{distinctJobs.Count} jobs, {fullRuns.Count} full sync runs on {servers} job servers, all settled {settle.Elapsed.TotalSeconds:F1} s later");
    }

    private Task<List<string>> WrongCustomersAsync() =>
        CustomerAudit.WrongCustomersAsync(factory.ConnectionString, DateTime.UtcNow);
}
