using System.Diagnostics;
using System.Net;
using Crm.Api.Infrastructure;
using Crm.Jobs;
using Crm.Jobs.Customers;
using Crm.Jobs.Data;
using Crm.Jobs.Hosting;
using Crm.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Crm.Tests.Background;

// With the job server in the same process (role `all`, as shipped), an enqueue wakes one
// waiting worker of the job's queue, which claims the job in one statement: the queue is
// touched by the enqueue, that claim and the removal after success (and the worker's next
// look for work). Before, every enqueue sent `NOTIFY new_job`, which woke every waiting
// worker of every queue to read the queue, and the woken workers raced to update the row.
[Collection(nameof(JobWakeUpTests))]
public class JobWakeUpTests(JobWakeUpTests.ShippedFactory factory) : IClassFixture<JobWakeUpTests.ShippedFactory>
{
    // Hangfire.PostgreSql's in-process wake-up is one per queue name for the whole process,
    // so no other test's host may wait on it meanwhile: this class runs alone.
    [CollectionDefinition(nameof(JobWakeUpTests), DisableParallelization = true)]
    public sealed class RunsAlone;

    public sealed class ShippedFactory : CrmApiFactory
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            WithoutRecurringJobs(builder);
            // As shipped: long polling follows the role (CrmApiFactory turns it on).
            builder.UseSetting("Crm:Jobs:EnableLongPolling", "");
            // No fallback poll while the test counts: every look at the queue is a wake-up's.
            builder.UseSetting("Crm:Jobs:QueuePollInterval", "00:10:00");
        }
    }

    private const string Own = "/* job-wake-up test */";

    [Fact]
    public async Task OneEnqueueWakesOneWorkerWhichClaimsTheJobInOneStatement()
    {
        var options = CrmJobsExtensions.StorageOptions(
            factory.Services.GetRequiredService<IOptions<JobsOptions>>().Value, AppRole.All);
        Assert.False(options.EnableLongPolling);
        Assert.True(options.UseNativeDatabaseTransactions);

        var queueStatements = new List<string>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = activity =>
            {
                var text = activity.GetTagItem("db.query.text") as string ?? "";
                if ((activity.GetTagItem("db.namespace") as string) == factory.DatabaseName
                    && text.Contains("\"jobqueue\"") && !text.Contains(Own))
                {
                    lock (queueStatements)
                        queueStatements.Add(text);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        var client = factory.CreateClient();
        // 4 + 1 + 2 workers (CrmApiFactory) look for work once as they start, then wait.
        await Waiting.UntilAsync(() => Task.FromResult(Count()), n => n >= 7, "every worker's first look at the queue");
        await using var db = factory.CreateDbContext();
        var customer = new Customer { Name = "Очередь", Phone = "+79990001122", CreatedAt = DateTime.UtcNow, UpdatedAt = DateTime.UtcNow };
        db.Customers.Add(customer);
        await db.SaveChangesAsync();
        lock (queueStatements)
            queueStatements.Clear();

        var response = await client.PostAsync($"/api/customers/{customer.Id}/update-stats", null);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var jobId = long.Parse((await response.ReadJsonAsync<JobAccepted>()).JobId);
        await using var connection = new NpgsqlConnection(factory.ConnectionString);
        await connection.OpenAsync();
        await Waiting.UntilAsync(() => connection.ScalarAsync<bool>($"""
            SELECT {Own} j.statename = 'Succeeded' AND NOT EXISTS (SELECT FROM hangfire.jobqueue q WHERE q.jobid = j.id)
            FROM hangfire.job j WHERE j.id = @id
            """, default, ("id", jobId)), done => done, "the job to succeed and leave its queue");

        string[] seen;
        lock (queueStatements)
            seen = [.. queueStatements];
        // The enqueue's INSERT, the claim's UPDATE, the DELETE after success, and perhaps the
        // worker's next claim (an UPDATE that finds nothing).
        Assert.True(seen.Length is >= 3 and <= 4, string.Join("\n", seen));
        Assert.Single(seen, s => s.Contains("INSERT INTO"));
        Assert.Single(seen, s => s.Contains("DELETE FROM"));
        Assert.DoesNotContain(seen, s => s.TrimStart().StartsWith("SELECT", StringComparison.Ordinal));

        int Count()
        {
            lock (queueStatements)
                return queueStatements.Count;
        }
    }
}
