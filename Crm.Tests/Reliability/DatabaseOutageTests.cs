using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Crm.Api.Infrastructure;
using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using Npgsql;
using Xunit.Abstractions;

namespace Crm.Tests.Reliability;

// PostgreSQL stopped and started under the running app (its own private server, never the
// shared one): requests fail fast with 503 problem details while it is down, readiness says
// so and liveness does not, and once it is back everything recovers without a restart,
// including the jobs that failed because of the outage.
public sealed class DatabaseOutageTests(ITestOutputHelper output) : IAsyncLifetime
{
    // The timeouts give about 4 s (a 2 s statement, then a cancel that waits the 2 s connect
    // timeout); the rest is slack for a loaded two-core runner (5.2 s seen once in CI). Npgsql's
    // defaults would take 30 s or hang: the bound still tells the two apart.
    private static readonly TimeSpan FailFastBound = TimeSpan.FromSeconds(8);
    // Jobs that failed during the outage come back through Hangfire's retries (2 s, 10 s,
    // 30 s, 1 min, …) on a runner that may be busy: room for a few of them.
    private static readonly TimeSpan RecoveryDeadline = TimeSpan.FromMinutes(4);

    private PrivateServerFactory _app = null!;

    public async Task InitializeAsync() => _app = await PrivateServerFactory.StartAsync();

    public async Task DisposeAsync()
    {
        if (_app is null)
            return;
        // Shown only when the test fails: what the app and its job servers logged.
        foreach (var line in _app.Logs.AtLeast(LogLevel.Information))
            output.WriteLine(line);
        await ((IAsyncLifetime)_app).DisposeAsync();
    }

    [Fact]
    public async Task WhileTheDatabaseIsDownRequestsFailFastWith503AndEverythingRecoversWhenItReturns()
    {
        var client = _app.CreateClient();
        await Waiting.UntilAsync(() => client.GetAsync("/health/ready"), r => r.StatusCode == HttpStatusCode.OK,
            "readiness before the outage", RecoveryDeadline);

        // Two jobs that are running when the database goes away: a customer sync and a full
        // sync, each fetched by a worker and waiting inside PostgreSQL for the bulk lock that
        // this connection holds. The outage kills their sessions, so both fail mid-run.
        var holder = new NpgsqlConnection(_app.ConnectionString);
        await holder.OpenAsync();
        await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({SyncEngine.BulkLockKey})", holder))
            await take.ExecuteNonQueryAsync();
        var order = await PostOrderAsync(client, "+79995550001", 1500m);
        var customerJob = (string)order["syncJobId"]!;
        var fullSync = await client.PostAsJsonAsync("/api/sync", new { mode = "default" });
        Assert.Equal(HttpStatusCode.Accepted, fullSync.StatusCode);
        var fullSyncJob = (string)(await fullSync.ReadJsonAsync())["jobId"]!;
        await Waiting.UntilAsync(() => WaitingForTheLockAsync(holder), waiting => waiting == 2,
            "both jobs to wait for the bulk lock inside PostgreSQL", RecoveryDeadline);
        foreach (var job in new[] { customerJob, fullSyncJob })
            Assert.Equal("Processing", (string?)(await (await client.GetAsync($"/api/jobs/{job}")).ReadJsonAsync())["state"]);

        await _app.Postgres.StopAsync();
        await holder.DisposeAsync();

        // Every kind of request fails fast with 503 problem details: reads, writes, job status,
        // job triggers. Measured one by one.
        var attempts = new (HttpMethod Method, string Path, object? Body)[]
        {
            (HttpMethod.Get, "/api/customers", null),
            (HttpMethod.Get, "/api/customers/1", null),
            (HttpMethod.Post, "/api/customers", new { name = "Во время сбоя", phone = "+79995550009" }),
            (HttpMethod.Get, "/api/orders?phone=%2B79995550001", null),
            (HttpMethod.Post, "/api/orders", new { customerPhone = "+79995550002", totalAmount = 10, status = "completed" }),
            (HttpMethod.Get, $"/api/jobs/{customerJob}", null),
            (HttpMethod.Post, "/api/sync", new { mode = "force" }),
            (HttpMethod.Get, "/api/sync/runs", null),
            (HttpMethod.Get, "/api/categories", null),
            (HttpMethod.Post, "/api/categories/recalculate", null),
        };
        var slowest = TimeSpan.Zero;
        foreach (var (method, path, body) in attempts)
        {
            var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
            var watch = Stopwatch.StartNew();
            var response = await client.SendAsync(request);
            watch.Stop();
            output.WriteLine($"down: {method} {path} → {(int)response.StatusCode} in {watch.ElapsedMilliseconds} ms");
            var problem = await response.AssertProblemAsync(HttpStatusCode.ServiceUnavailable);
            Assert.Equal("The database is unavailable", (string?)problem["title"]);
            Assert.Equal(TimeSpan.FromSeconds(ProblemExceptionHandler.RetryAfterSeconds), response.Headers.RetryAfter?.Delta);
            Assert.True(watch.Elapsed < FailFastBound, $"{method} {path} took {watch.Elapsed} while the database was down");
            slowest = watch.Elapsed > slowest ? watch.Elapsed : slowest;
        }
        // Readiness runs its checks at most once per Crm:Health:CacheDuration (2 s): until then it
        // answers the report from before the outage. The probe that ran them is the one timed.
        var readyWatch = new Stopwatch();
        var notReady = await Waiting.UntilAsync(async () =>
            {
                readyWatch.Restart();
                var response = await client.GetAsync("/health/ready");
                readyWatch.Stop();
                return response;
            },
            r => r.StatusCode == HttpStatusCode.ServiceUnavailable, "readiness to report the outage", TimeSpan.FromSeconds(30));
        Assert.Equal("Unhealthy", (string?)(await notReady.ReadJsonAsync())["status"]);
        Assert.True(readyWatch.Elapsed < FailFastBound, $"readiness took {readyWatch.Elapsed} while the database was down");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        output.WriteLine($"slowest failing request: {slowest.TotalMilliseconds:F0} ms; readiness answered in {readyWatch.ElapsedMilliseconds} ms");

        // Back up, same app: ready again, writes work, and the two jobs that failed are retried.
        await _app.Postgres.StartAgainAsync();
        var recovery = Stopwatch.StartNew();
        await Waiting.UntilAsync(() => client.GetAsync("/health/ready"), r => r.StatusCode == HttpStatusCode.OK,
            "readiness after the database returned", RecoveryDeadline);
        var ready = recovery.Elapsed;
        var after = await PostOrderAsync(client, "+79995550001", 500m);
        var writable = recovery.Elapsed;

        foreach (var job in new[] { customerJob, fullSyncJob, (string)after["syncJobId"]! })
        {
            JsonNode done;
            try
            {
                done = await Waiting.UntilAsync(
                    async () => await (await client.GetAsync($"/api/jobs/{job}")).ReadJsonAsync(),
                    j => (string?)j["state"] is "Succeeded" or "Failed" or "Deleted",
                    $"job {job} to finish after the outage", RecoveryDeadline);
            }
            catch (TimeoutException)
            {
                await WriteWhatHoldsTheJobsAsync();
                throw;
            }
            Assert.True((string?)done["state"] == "Succeeded", $"job {job}: {done.ToJsonString()}");
            if (job != (string)after["syncJobId"]!)
                Assert.True((int)done["retryCount"]! >= 1, $"job {job} was not retried: {done.ToJsonString()}");
        }
        var jobsDone = recovery.Elapsed;
        output.WriteLine($"after restart: ready in {ready.TotalSeconds:F1} s, first write in {writable.TotalSeconds:F1} s, " +
                         $"failed jobs retried and succeeded in {jobsDone.TotalSeconds:F1} s");

        var customer = await Waiting.UntilAsync(
            async () => (await (await client.GetAsync("/api/customers?search=%2B79995550001")).ReadJsonAsync())["items"]!.AsArray(),
            items => items.Count == 1 && (decimal)items[0]!["totalSpent"]! == 2000m, "the customer with both orders", RecoveryDeadline);
        Assert.Equal(2, (int)customer[0]!["totalOrders"]!);
    }

    private static async Task<JsonNode> PostOrderAsync(HttpClient client, string phone, decimal amount)
    {
        var response = await client.PostAsJsonAsync("/api/orders",
            new { customerName = "Клиент Сбоя", customerPhone = phone, totalAmount = amount, status = "completed" });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return await response.ReadJsonAsync();
    }

    // Hangfire's lock rows and every session that is not idle: what a job that does not move
    // on is waiting for.
    private async Task WriteWhatHoldsTheJobsAsync()
    {
        await using var connection = new NpgsqlConnection(_app.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT 'lock ' || resource || ' acquired ' || acquired FROM hangfire.lock
            UNION ALL
            SELECT 'session ' || pid || ' ' || state || coalesce(' waiting on ' || wait_event_type || '/' || wait_event, '')
                   || ': ' || left(query, 200)
            FROM pg_stat_activity WHERE datname = current_database() AND state <> 'idle' AND pid <> pg_backend_pid()
            """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            output.WriteLine(reader.GetString(0));
    }

    private static async Task<long> WaitingForTheLockAsync(NpgsqlConnection holder)
    {
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND pid <> pg_backend_pid()", holder);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    // A server that hangs instead of refusing (SIGSTOP here; a network partition or a stuck
    // host in production): no connection error arrives, only silence.
    // Requests use the default data source, whose statements time out after
    // Crm:Database:CommandTimeout (2 s) and whose cancel request waits the connect timeout (2 s).
    [Fact]
    public async Task WhileTheDatabaseHangsRequestsFailFastWith503()
    {
        var client = _app.CreateClient();
        client.Timeout = TimeSpan.FromMinutes(2);
        await Waiting.UntilAsync(() => client.GetAsync("/health/ready"), r => r.StatusCode == HttpStatusCode.OK,
            "readiness before the outage", RecoveryDeadline);
        // Warm connections in the pool, as in any running app.
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => client.GetAsync("/api/customers")));

        await _app.Postgres.FreezeAsync();
        try
        {
            foreach (var path in new[] { "/api/customers", "/api/orders", "/api/categories" })
            {
                var watch = Stopwatch.StartNew();
                var response = await client.GetAsync(path);
                watch.Stop();
                output.WriteLine($"frozen: GET {path} → {(int)response.StatusCode} in {watch.ElapsedMilliseconds} ms");
                await response.AssertProblemAsync(HttpStatusCode.ServiceUnavailable);
                Assert.True(watch.Elapsed < FailFastBound, $"GET {path} took {watch.Elapsed} while the database hung");
            }
        }
        finally
        {
            await _app.Postgres.ThawAsync();
        }
        await Waiting.UntilAsync(() => client.GetAsync("/health/ready"), r => r.StatusCode == HttpStatusCode.OK,
            "readiness after the database thawed", RecoveryDeadline);
    }
}
