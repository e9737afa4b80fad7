using System.Net;
using Crm.Api.Customers;
using Crm.Jobs.Data;
using Crm.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Crm.Tests.Customers;

// The original routes' `?wait=` holds a request open while its job runs: at most
// Crm:RateLimit:MaxWaitsPerKey of one key and Crm:RateLimit:MaxWaits in all wait at once.
public class OriginalRoutesWaitLimitTests(OriginalRoutesWaitLimitTests.Factory factory)
    : IClassFixture<OriginalRoutesWaitLimitTests.Factory>
{
    public sealed class Factory : CrmApiFactory
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Crm:RateLimit:MaxWaitsPerKey", "2");
            builder.UseSetting("Crm:RateLimit:MaxWaits", "3");
        }
    }

    private const string SyncAndWait = "/api/customers/sync_from_orders/?wait=60";

    private static async Task AssertTooManyWaitsAsync(HttpResponseMessage response)
    {
        var problem = await response.AssertProblemAsync(HttpStatusCode.TooManyRequests);
        Assert.Equal("Too many waiting requests", (string?)problem["title"]);
        Assert.Equal(WaitSlots.RetryAfterSeconds.ToString(), response.Headers.GetValues("Retry-After").Single());
    }

    [Fact]
    public async Task PastTheLimitOfWaitingRequestsTheExtraOneGets429AndTheOthersFinish()
    {
        var (operatorKey, admin) = (factory.CreateClient(TestKeys.Operator), factory.CreateClient(TestKeys.Admin));
        var slots = factory.Services.GetRequiredService<WaitSlots>();

        // The full sync's lock, held here: the sync every wait joins cannot finish until it is let go.
        await using var holder = new NpgsqlConnection(factory.ConnectionString);
        await holder.OpenAsync();
        await holder.ExecuteAsync("SELECT pg_advisory_lock(@key)", CancellationToken.None, ("key", AdvisoryLockKeys.FullSync));

        using var goesAway = new CancellationTokenSource();
        var first = operatorKey.PostAsync(SyncAndWait, null);
        var abandoned = operatorKey.PostAsync(SyncAndWait, null, goesAway.Token);
        var ofAdmin = admin.PostAsync(SyncAndWait, null);
        await Waiting.UntilAsync(() => Task.FromResult(slots.Waiting), n => n == 3, "three waiting requests");

        // The operator's third wait is over its key's limit, the admin's second over the limit of all.
        await AssertTooManyWaitsAsync(await operatorKey.PostAsync(SyncAndWait, null));
        await AssertTooManyWaitsAsync(await admin.PostAsync(SyncAndWait, null));
        Assert.False(first.IsCompleted || abandoned.IsCompleted || ofAdmin.IsCompleted);
        // Not waiting is never limited.
        Assert.Equal(HttpStatusCode.Accepted, (await operatorKey.PostAsync("/api/customers/sync_from_orders/?wait=0", null)).StatusCode);

        // A client that goes away gives its slot back, and the next wait takes it.
        goesAway.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        await Waiting.UntilAsync(() => Task.FromResult(slots.Waiting), n => n == 2, "the abandoned wait's slot to be free");
        var reused = operatorKey.PostAsync(SyncAndWait, null);
        await Waiting.UntilAsync(() => Task.FromResult(slots.Waiting), n => n == 3, "the free slot to be taken");

        await holder.ExecuteAsync("SELECT pg_advisory_unlock(@key)", CancellationToken.None, ("key", AdvisoryLockKeys.FullSync));
        var answers = await Task.WhenAll(first, ofAdmin, reused);
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        var jobs = await Task.WhenAll(answers.Select(async a => (string?)(await a.ReadJsonAsync())["job_id"]));
        Assert.Single(jobs.Distinct());

        // Every slot is free again.
        await Waiting.UntilAsync(() => Task.FromResult(slots.Waiting), n => n == 0, "every slot to be free");
        Assert.Equal(HttpStatusCode.OK, (await operatorKey.PostAsync(SyncAndWait, null)).StatusCode);
    }
}
