using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Crm.Tests.Reliability;

// A worker killed in the middle of a full sync leaves its run `running`; once the session
// that held the run's lock has ended, the sweep marks it abandoned, with the reason, for the
// API and the dashboard alike. Never before: a run whose holder still lives keeps running.
public class AbandonedRunTests(AbandonedRunTests.ApiRoleFactory factory) : IClassFixture<AbandonedRunTests.ApiRoleFactory>
{
    // Only the test's job runs: no recurring job on either side.
    private static readonly (string, string)[] Quiet =
    [
        ("Crm__Sync__Cron", ""),
        ("Crm__Sync__PendingCron", ""),
        ("Crm__Sync__RunPruneCron", ""),
        ("Crm__Categories__RecalculateCron", "0 0 31 2 *"),
    ];

    // Enqueues and reports; the jobs run in the worker process.
    public sealed class ApiRoleFactory : CrmApiFactory
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Crm:Role", "api");
            foreach (var (name, value) in Quiet)
                builder.UseSetting(name.Replace("__", ":"), value);
        }
    }

    private static readonly TimeSpan ProcessDeadline = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task ARunWhoseWorkerWasKilledIsMarkedAbandonedOnceItsSessionHasEnded()
    {
        // A customer, so the full sync writes in chunks: its run row is written before it
        // waits for the bulk lock that the test holds.
        await ExecuteAsync("""
            INSERT INTO customers (name, phone, created_at, updated_at) VALUES ('Брошенный', '+79995550002', now(), now())
            """);
        await using var blocker = new NpgsqlConnection(Unpooled);
        await blocker.OpenAsync();
        await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({SyncEngine.BulkLockKey})", blocker))
            await take.ExecuteNonQueryAsync();

        var client = factory.CreateClient();
        await using var worker = WorkerProcess.Start(factory.ConnectionString, Quiet);
        await worker.WaitReadyAsync(ProcessDeadline);
        var jobId = (string)(await (await client.PostAsJsonAsync("/api/sync", new { mode = "default" })).ReadJsonAsync())["jobId"]!;
        var holder = await Waiting.UntilAsync(
            () => ScalarAsync<int?>($"SELECT holder_pid FROM sync_runs WHERE job_id = '{jobId}' AND status = 'running'"),
            pid => pid is not null, "the full sync to start its run", ProcessDeadline);
        await Waiting.UntilAsync(
            () => ScalarAsync<bool>($"SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = {holder} AND locktype = 'advisory' AND NOT granted)"),
            waits => waits, "the run to wait for the bulk lock", ProcessDeadline);

        await worker.KillAsync();

        // Its session still waits for the lock (PostgreSQL notices a dead client only when it
        // next talks to it), holding the full-sync lock: the run is not abandoned yet.
        await SweepAsync();
        Assert.Equal("running", await ScalarAsync<string>($"SELECT status FROM sync_runs WHERE job_id = '{jobId}'"));

        // Given the lock, the orphaned session answers a client that is gone, and ends.
        await using (var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({SyncEngine.BulkLockKey})", blocker))
            await release.ExecuteNonQueryAsync();
        await Waiting.UntilAsync(() => ScalarAsync<bool>($"SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = {holder})"),
            alive => !alive, $"the killed worker's session {holder} to end", ProcessDeadline);
        await SweepAsync();

        var runs = (await (await client.GetAsync("/api/sync/runs")).ReadJsonAsync())["items"]!.AsArray();
        var run = Assert.Single(runs, r => (string?)r!["jobId"] == jobId)!;
        Assert.Equal("abandoned", (string?)run["status"]);
        Assert.NotNull(run["finishedAt"]);
        Assert.Contains($"backend {holder}", (string?)run["error"]);
        Assert.Equal($"/api/jobs/{jobId}", (string?)run["statusUrl"]);

        var page = new HttpRequestMessage(HttpMethod.Get, "/hangfire/syncs");
        page.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{TestKeys.Admin.Name}:{TestKeys.Admin.Key}")));
        var html = await (await factory.CreateClient(key: null).SendAsync(page)).Content.ReadAsStringAsync();
        Assert.Matches($"#{jobId}</a>.*?<td[^>]*ended before the run finished[^>]*>abandoned</td>", html.ReplaceLineEndings(" "));
    }

    // What the recurring sync-pending sweep runs every minute.
    private async Task SweepAsync()
    {
        await using var scope = factory.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<SyncJobs>().SweepPendingAsync(null, CancellationToken.None);
    }

    private string Unpooled => new NpgsqlConnectionStringBuilder(factory.ConnectionString) { Pooling = false }.ConnectionString;

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(Unpooled);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(Unpooled);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync();
        return value is null or DBNull ? default! : (T)value;
    }
}
