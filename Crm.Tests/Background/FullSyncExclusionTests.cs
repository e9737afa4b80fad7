using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Crm.Tests.Background;

// Two app processes with job servers on one database, full syncs of every mode queued
// together with per-customer work: never two full syncs at once, no deadlock, every job
// succeeds and the customers end exact.
public class FullSyncExclusionTests(RealClockCrmApiFactory factory) : IClassFixture<RealClockCrmApiFactory>
{
    [Fact]
    public async Task TwoServersNeverRunTwoFullSyncsAtOnce()
    {
        await using var db = factory.CreateDbContext();
        await db.Database.ExecuteSqlRawAsync("""
            INSERT INTO orders (customer_name, customer_phone, normalized_phone, total_amount, status, created_at, updated_at)
            SELECT 'Покупатель ' || (i % 3000), '+7998' || lpad((i % 3000)::text, 7, '0'), '+7998' || lpad((i % 3000)::text, 7, '0'),
                   (i % 97) * 10.5, CASE WHEN i % 4 = 0 THEN 'cancelled' ELSE 'completed' END,
                   now() - make_interval(days => i % 400), now()
            FROM generate_series(1, 150000) AS i
            """);

        await using var second = new SharedDatabaseFactory(factory);
        var client = factory.CreateClient();
        second.CreateClient(); // starts the second process's job servers
        var monitoring = factory.Services.GetRequiredService<JobStorage>().GetMonitoringApi();
        await Waiting.UntilAsync(() => Task.FromResult(monitoring.Servers().Count(s => s.Queues.Contains("bulk"))),
            count => count == 2, "both processes' bulk servers to announce themselves");

        var jobs = factory.Services.GetRequiredService<IBackgroundJobClient>();
        SyncMode[] modes = [SyncMode.Default, SyncMode.Force, SyncMode.StatsOnly];
        var fullSyncs = Enumerable.Range(0, 6)
            .Select(i => jobs.Enqueue<SyncJobs>(j => j.FullSyncAsync(modes[i % 3], null, CancellationToken.None)))
            .ToList();
        // Per-customer work for the same phones at the same time, through both processes.
        var orderWrites = await Task.WhenAll(Enumerable.Range(0, 20).Select(async i =>
        {
            var writer = i % 2 == 0 ? factory.CreateClient() : second.CreateClient();
            var response = await writer.PostAsync("/api/orders", System.Net.Http.Json.JsonContent.Create(new
            {
                customerName = "Покупатель " + i, customerPhone = "+7998" + i.ToString().PadLeft(7, '0'),
                totalAmount = 1000, status = "completed",
            }));
            return (string)(await response.ReadJsonAsync())["syncJobId"]!;
        }));

        foreach (var jobId in fullSyncs.Concat(orderWrites).Distinct())
            await client.JobAsync(jobId);

        var runs = await db.SyncRuns.AsNoTracking()
            .Where(r => r.Mode != SyncMode.Auto)
            .OrderBy(r => r.StartedAt)
            .ToListAsync();
        Assert.Equal(6, runs.Count);
        Assert.All(runs, r => Assert.Equal(SyncRunStatus.Succeeded, r.Status));
        for (var i = 1; i < runs.Count; i++)
            Assert.True(runs[i].StartedAt >= runs[i - 1].FinishedAt,
                $"Run {runs[i].Id} started at {runs[i].StartedAt:O} before run {runs[i - 1].Id} finished at {runs[i - 1].FinishedAt:O}");

        // The end state is what a single sync computes: a last statsOnly run changes nothing.
        var check = await new SyncEngineRunner(factory).RunAsync(SyncMode.StatsOnly);
        Assert.Equal(0, check.UpdatedCount);
        Assert.Equal(3000, check.TotalCustomers);
    }

    private sealed class SyncEngineRunner(RealClockCrmApiFactory factory)
    {
        public async Task<SyncCounts> RunAsync(SyncMode mode)
        {
            await using var scope = factory.Services.CreateAsyncScope();
            return await scope.ServiceProvider.GetRequiredService<SyncEngine>()
                .RunAsync(mode, new SyncScope.All(), jobId: null, CancellationToken.None);
        }
    }
}
