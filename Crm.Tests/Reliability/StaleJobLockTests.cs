using System.Diagnostics;
using System.Net;
using Crm.Jobs.Customers;
using Crm.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Npgsql;

namespace Crm.Tests.Reliability;

// A Hangfire state lock (hangfire.lock, resource `hangfire:job:<id>:state-lock`) whose release failed because the database went away stays behind as
// a row of hangfire.lock. Every state change of that job waits for it (Hangfire's worker
// retries the change, the job shows `Processing`) until the row counts as abandoned:
// Crm:Jobs:DistributedLockTimeout, not Hangfire.PostgreSql's 10 minutes.
public sealed class StaleJobLockTests(StaleJobLockTests.ShortLockFactory factory) : IClassFixture<StaleJobLockTests.ShortLockFactory>
{
    public sealed class ShortLockFactory : CrmApiFactory
    {
        public static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(5);

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            // No other job takes the next job id.
            WithoutRecurringJobs(builder);
            builder.UseSetting("Crm:Jobs:DistributedLockTimeout", LockTimeout.ToString());
        }
    }

    [Fact]
    public async Task AJobWhoseStateLockWasLeftBehindRunsOnceTheLockCountsAsAbandoned()
    {
        var client = factory.CreateClient();
        await using var db = factory.CreateDbContext();
        var customer = new Customer { Name = "Замок", Phone = "+79990002233", CreatedAt = DateTime.UtcNow, UpdatedAt = DateTime.UtcNow };
        db.Customers.Add(customer);
        await db.SaveChangesAsync();

        // The lock an outage left behind for the job about to be enqueued: the next id of
        // Hangfire's job sequence in this test's own database.
        await using var connection = new NpgsqlConnection(factory.ConnectionString);
        await connection.OpenAsync();
        await using (var leave = new NpgsqlCommand("""
            INSERT INTO hangfire.lock (resource, updatecount, acquired)
            SELECT 'hangfire:job:' || (CASE WHEN is_called THEN last_value + 1 ELSE last_value END) || ':state-lock', 0, now() AT TIME ZONE 'UTC'
            FROM hangfire.job_id_seq
            """, connection))
            await leave.ExecuteNonQueryAsync();

        var watch = Stopwatch.StartNew();
        var response = await client.PostAsync($"/api/customers/{customer.Id}/update-stats", null);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var jobId = (string)(await response.ReadJsonAsync())["jobId"]!;
        await using (var held = new NpgsqlCommand("SELECT count(*) FROM hangfire.lock WHERE resource = @resource", connection))
        {
            held.Parameters.AddWithValue("resource", $"hangfire:job:{jobId}:state-lock");
            Assert.Equal(1L, (long)(await held.ExecuteScalarAsync())!);
        }

        // Hangfire.PostgreSql's 10 minutes would keep it far past this deadline.
        var done = await Waiting.UntilAsync(
            async () => await (await client.GetAsync($"/api/jobs/{jobId}")).ReadJsonAsync(),
            j => (string?)j["state"] == "Succeeded", "the job held by the stale lock to succeed", TimeSpan.FromMinutes(2));
        Assert.True(watch.Elapsed >= ShortLockFactory.LockTimeout - TimeSpan.FromSeconds(1),
            $"the job succeeded after {watch.Elapsed}, before the lock it was given could count as abandoned: did it wait for it?");
        Assert.Equal("Succeeded", (string?)done["state"]);
    }
}
