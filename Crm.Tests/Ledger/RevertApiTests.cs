using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Crm.Jobs.Ledger;
using Crm.Jobs.Orders;
using Crm.Tests.Infrastructure;
using Hangfire;
using Hangfire.States;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Crm.Tests.Ledger;

// Dry runs and the revert of a sync run through the HTTP API, run by the real Hangfire server.
public class RevertApiTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    // An order written around the API, so that only a full sync creates its customer.
    private async Task<string> AddOrderDirectlyAsync()
    {
        var phone = TestPhones.New();
        await using var db = factory.CreateDbContext();
        var now = factory.Clock.GetUtcNow().UtcDateTime;
        db.Orders.Add(new Order
        {
            CustomerName = "Прямой Заказ", CustomerPhone = phone, NormalizedPhone = phone, TotalAmount = 100m,
            Status = OrderStatus.Completed, CreatedAt = now, UpdatedAt = now,
        });
        await db.SaveChangesAsync();
        return phone;
    }

    // A full sync, awaited; returns its run as GET /api/sync/runs lists it.
    private async Task<JsonNode> SyncAsync(bool dryRun = false)
    {
        var jobId = (string)(await (await _client.PostAsJsonAsync("/api/sync", new { mode = "default", dryRun })).ReadJsonAsync())["jobId"]!;
        await _client.JobAsync(jobId);
        return await RunAsync(run => (string?)run["jobId"] == jobId);
    }

    private async Task<JsonNode> RunAsync(Func<JsonNode, bool> which)
    {
        var runs = await (await _client.GetAsync("/api/sync/runs?pageSize=200")).ReadJsonAsync();
        return runs["items"]!.AsArray().Single(r => which(r!))!;
    }

    private Task<HttpResponseMessage> RevertAsync(long runId, HttpClient? client = null) =>
        (client ?? _client).PostAsync($"/api/sync/runs/{runId}/revert", null);

    // Full and dry syncs in Hangfire's storage, started by a request (recurring occurrences aside).
    private async Task<long> SyncJobsAsync()
    {
        await using var connection = new NpgsqlConnection(factory.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT count(*) FROM hangfire.job j
            WHERE (j.invocationdata::text LIKE '%FullSyncAsync%' OR j.invocationdata::text LIKE '%DryRunAsync%')
              AND NOT EXISTS (SELECT 1 FROM hangfire.jobparameter p WHERE p.jobid = j.id AND p.name = 'RecurringJobId')
            """, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task RevertingAnUnknownRunIsNotFound()
    {
        var problem = await (await RevertAsync(long.MaxValue)).AssertProblemAsync(HttpStatusCode.NotFound);

        Assert.Equal("No such sync run", (string?)problem["title"]);
    }

    [Fact]
    public async Task RevertingADryRunIsAConflictAndEnqueuesNothing()
    {
        var dryRun = await SyncAsync(dryRun: true);

        var problem = await (await RevertAsync((long)dryRun["id"]!)).AssertProblemAsync(HttpStatusCode.Conflict);

        Assert.Contains("dry run", (string?)problem["detail"]);
        Assert.Equal((long)dryRun["id"]!, (long)problem["runId"]!);
        Assert.Null((await RunAsync(r => (long)r["id"]! == (long)dryRun["id"]!))["revertJobId"]);
    }

    [Fact]
    public async Task ARunIsRevertedOnceAndASecondRevertIsAConflict()
    {
        await AddOrderDirectlyAsync();
        var runId = (long)(await SyncAsync())["id"]!;

        var first = await RevertAsync(runId);
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        var jobId = (string)(await first.ReadJsonAsync())["jobId"]!;
        Assert.Equal($"/api/jobs/{jobId}", first.Headers.Location?.ToString());
        var again = await (await RevertAsync(runId)).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains(jobId, (string?)again["detail"]);

        await _client.JobAsync(jobId);
        var run = await RunAsync(r => (long)r["id"]! == runId);
        Assert.Equal(jobId, (string?)run["revertJobId"]);
        Assert.NotNull(run["revertedAt"]);
        // Finished or not, a run is reverted once.
        await (await RevertAsync(runId)).AssertProblemAsync(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task OnlyAnAdminMayRevertARun()
    {
        await AddOrderDirectlyAsync();
        var runId = (long)(await SyncAsync())["id"]!;

        await (await RevertAsync(runId, factory.CreateClient(TestKeys.Operator))).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await RevertAsync(runId, factory.CreateClient(TestKeys.Reader))).AssertProblemAsync(HttpStatusCode.Forbidden);
        var anonymous = await RevertAsync(runId, factory.CreateClient(key: null));
        await anonymous.AssertProblemAsync(HttpStatusCode.Unauthorized);

        Assert.Null((await RunAsync(r => (long)r["id"]! == runId))["revertJobId"]);
    }

    [Theory]
    [InlineData("""{"mode":"default","dryRun":"yes"}""")]
    [InlineData("""{"mode":"default","dryRun":"true"}""")]
    [InlineData("""{"mode":"default","dryRun":1}""")]
    [InlineData("""{"mode":"default","dryRun":null}""")]
    public async Task ADryRunFlagThatIsNotABooleanIsRejectedAndEnqueuesNothing(string body)
    {
        var before = await SyncJobsAsync();

        await (await _client.PostRawAsync("/api/sync", body)).AssertValidationErrorAsync("dryRun");

        Assert.Equal(before, await SyncJobsAsync());
    }

    // A revert whose job was deleted (or failed for good) did not happen: it may be asked again.
    [Fact]
    public async Task ARevertWhoseJobIsGoneMayBeAskedAgain()
    {
        await AddOrderDirectlyAsync();
        var runId = (long)(await SyncAsync())["id"]!;
        var jobs = factory.Services.GetRequiredService<IBackgroundJobClient>();
        var deleted = jobs.Create<LedgerJobs>(j => j.RevertRunAsync(runId, CancellationToken.None), new DeletedState());
        await factory.ExecuteAsync("UPDATE sync_runs SET revert_job_id = @job WHERE id = @id", ("job", deleted), ("id", runId));

        var again = await RevertAsync(runId);

        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        var jobId = (string)(await again.ReadJsonAsync())["jobId"]!;
        await _client.JobAsync(jobId);
        var run = await RunAsync(r => (long)r["id"]! == runId);
        Assert.Equal(jobId, (string?)run["revertJobId"]);
        Assert.NotNull(run["revertedAt"]);
    }

    [Fact]
    public async Task TheRunsListShowsADryRunAndTheChangesOfARealRun()
    {
        var phone = await AddOrderDirectlyAsync();
        var jobs = await SyncJobsAsync();
        var dryRun = await SyncAsync(dryRun: true);

        Assert.True((bool)dryRun["dryRun"]!);
        Assert.True((int)dryRun["changes"]!["created"]! >= 1, dryRun.ToJsonString());
        Assert.Null(dryRun["changesUrl"]); // rolled back with it
        await using (var db = factory.CreateDbContext())
            Assert.False(await db.Customers.AnyAsync(c => c.Phone == phone)); // it wrote nothing

        var real = await SyncAsync();
        Assert.Equal(jobs + 2, await SyncJobsAsync()); // what the bad dry-run flags are checked against

        Assert.False((bool)real["dryRun"]!);
        Assert.True((int)real["changes"]!["created"]! >= 1, real.ToJsonString());
        Assert.Null(real["revertJobId"]);
        Assert.Null(real["revertedAt"]);
        var changesUrl = (string)real["changesUrl"]!;
        Assert.Equal($"/api/sync/runs/{real["id"]}/changes", changesUrl);
        var created = await (await _client.GetAsync(changesUrl + "?field=created&pageSize=200")).ReadJsonAsync();
        Assert.Contains(created["items"]!.AsArray(), c => (string?)c!["to"]!["phone"] == phone);
    }
}
