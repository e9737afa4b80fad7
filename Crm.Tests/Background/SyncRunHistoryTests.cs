using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;
using Hangfire;
using Hangfire.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Crm.Tests.Background;

// The recurring jobs around sync_runs: the nightly full sync joins the full-sync dedupe, and
// the history is pruned in step with Hangfire's own job expiry.
public class SyncRunHistoryTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task ASyncRequestedWhileTheNightlySyncRunsGetsTheNightlySyncsJob()
    {
        // A customer, so the full sync writes in chunks and its run row appears before it
        // waits for the bulk lock the test holds.
        await using (var db = factory.CreateDbContext())
        {
            await db.Database.ExecuteSqlRawAsync("""
                INSERT INTO customers (name, phone, created_at, updated_at) VALUES ('Ночной', '+79995550001', now(), now())
                """);
        }
        await using var blocker = new NpgsqlConnection(factory.ConnectionString);
        await blocker.OpenAsync();
        await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({SyncEngine.BulkLockKey})", blocker))
            await take.ExecuteNonQueryAsync();

        // What the dashboard's "Trigger now" (and the cron) does.
        await TriggerAsync(SyncJobs.DefaultSyncRecurringJobId);
        var nightly = await Waiting.UntilAsync(
            () => ScalarAsync<string?>("SELECT job_id FROM sync_runs WHERE mode = 'default' AND status = 'running'"),
            jobId => jobId is not null, "the nightly full sync to start its run");

        var requested = (string)(await (await _client.PostAsJsonAsync("/api/sync", new { mode = "default" })).ReadJsonAsync())["jobId"]!;

        Assert.Equal(nightly, requested);
        await using (var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({SyncEngine.BulkLockKey})", blocker))
            await release.ExecuteNonQueryAsync();
        await _client.JobAsync(nightly!);
        Assert.Equal(1L, await ScalarAsync<long>("SELECT count(*) FROM sync_runs WHERE mode = 'default'"));
    }

    [Fact]
    public async Task ThePruneJobDropsOldRunsWhoseJobsHangfireNoLongerStoresAndEndsRunsWithoutAHolder()
    {
        // A real job that Hangfire still stores, and ids of jobs it has dropped.
        var stored = (string)(await (await _client.PostAsJsonAsync("/api/sync", new { mode = "statsOnly" })).ReadJsonAsync())["jobId"]!;
        await _client.JobAsync(stored);
        var now = factory.Clock.GetUtcNow().UtcDateTime;
        var ids = await InsertRunsAsync(now,
            ("old-command-line", null, "succeeded", now.AddDays(-3)),
            ("old-expired-job", "987654301", "succeeded", now.AddDays(-3)),
            ("old-stored-job", stored, "failed", now.AddDays(-3)),
            ("recent-expired-job", "987654302", "succeeded", now.AddHours(-1)),
            ("old-running-without-holder", "987654303", "running", null));

        await TriggerAsync(SyncJobs.PruneRunsRecurringJobId);
        await Waiting.UntilAsync(() => ScalarAsync<long>($"SELECT count(*) FROM sync_runs WHERE id IN ({ids["old-command-line"]}, {ids["old-expired-job"]})"),
            count => count == 0, "the prune job to delete the old runs");

        var left = await RunsAsync(ids.Values);
        Assert.Equal("failed", left[ids["old-stored-job"]].Status);
        Assert.Equal("succeeded", left[ids["recent-expired-job"]].Status);
        var abandoned = left[ids["old-running-without-holder"]];
        Assert.Equal("abandoned", abandoned.Status);
        Assert.Contains("ended before the run finished", abandoned.Error);
        Assert.Equal(3, left.Count);

        // Only a job Hangfire still stores is linked: the API's statusUrl, the dashboard's link.
        var runs = (await (await _client.GetAsync("/api/sync/runs?pageSize=200")).ReadJsonAsync())["items"]!.AsArray();
        Assert.Equal($"/api/jobs/{stored}", (string?)runs.First(r => (long)r!["id"]! == ids["old-stored-job"])!["statusUrl"]);
        Assert.Null((string?)runs.First(r => (long)r!["id"]! == ids["recent-expired-job"])!["statusUrl"]);
        var html = await DashboardPageAsync("/hangfire/syncs");
        Assert.Contains($"/hangfire/jobs/details/{stored}\"", html);
        Assert.DoesNotContain("/hangfire/jobs/details/987654302", html);
        Assert.Contains("#987654302 (expired)", html);
    }

    // Once the recurring jobs are registered (in the background at start), trigger one.
    private async Task TriggerAsync(string recurringJobId)
    {
        var storage = factory.Services.GetRequiredService<JobStorage>();
        await Waiting.UntilAsync(() =>
        {
            using var connection = storage.GetConnection();
            return Task.FromResult(connection.GetRecurringJobs().Any(j => j.Id == recurringJobId));
        }, registered => registered, $"the recurring job {recurringJobId} to be registered");
        factory.Services.GetRequiredService<IRecurringJobManager>().Trigger(recurringJobId);
    }

    private async Task<Dictionary<string, long>> InsertRunsAsync(
        DateTime now, params (string Name, string? JobId, string Status, DateTime? FinishedAt)[] runs)
    {
        var ids = new Dictionary<string, long>();
        await using var connection = new NpgsqlConnection(factory.ConnectionString);
        await connection.OpenAsync();
        foreach (var run in runs)
        {
            await using var command = new NpgsqlCommand("""
                INSERT INTO sync_runs (job_id, mode, status, started_at, finished_at, created_count, updated_count,
                                       unchanged_count, skipped_count, error_count, total_customers, duration_ms)
                VALUES (@job_id, 'auto', @status, @started_at, @finished_at, 0, 0, 0, 0, 0, 0, 0)
                RETURNING id
                """, connection);
            command.Parameters.AddWithValue("job_id", (object?)run.JobId ?? DBNull.Value);
            command.Parameters.AddWithValue("status", run.Status);
            command.Parameters.AddWithValue("started_at", (run.FinishedAt ?? now.AddDays(-3)).AddSeconds(-1));
            command.Parameters.AddWithValue("finished_at", (object?)run.FinishedAt ?? DBNull.Value);
            ids[run.Name] = (long)(await command.ExecuteScalarAsync())!;
        }
        return ids;
    }

    private async Task<Dictionary<long, (string Status, string? Error)>> RunsAsync(IEnumerable<long> ids)
    {
        await using var connection = new NpgsqlConnection(factory.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT id, status, error FROM sync_runs WHERE id = ANY(@ids)", connection);
        command.Parameters.AddWithValue("ids", ids.ToArray());
        var runs = new Dictionary<long, (string, string?)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            runs[reader.GetInt64(0)] = (reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2));
        return runs;
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(factory.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync();
        return value is DBNull ? default! : (T)value!;
    }

    private async Task<string> DashboardPageAsync(string path)
    {
        var page = new HttpRequestMessage(HttpMethod.Get, path);
        page.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{TestKeys.Admin.Name}:{TestKeys.Admin.Key}")));
        return await (await factory.CreateClient(key: null).SendAsync(page)).Content.ReadAsStringAsync();
    }
}
