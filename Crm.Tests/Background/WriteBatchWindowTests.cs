using System.Net;
using System.Net.Http.Json;
using Crm.Api.Orders;
using Crm.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;

namespace Crm.Tests.Background;

// The shared order-write job waits only under a burst (claimed within Crm:Sync:WriteBatchWindow
// of the last pending sync's start): on an idle service it syncs at once; the writes right
// after it share one job that waits (docs/SYNC-RULES.md; WriteBurstTests: for how long).
public class WriteBatchWindowTests(WriteBatchWindowTests.LongWindowFactory factory) : IClassFixture<WriteBatchWindowTests.LongWindowFactory>
{
    // A window far longer than any wait of the test: a job that waited it would never be seen
    // to succeed, and every write made within it must share one job.
    public sealed class LongWindowFactory : CrmApiFactory
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            WithoutRecurringJobs(builder);
            builder.UseSetting("Crm:Sync:WriteBatchWindow", "00:10:00");
            builder.UseSetting("Crm:Sync:WriteQuietPeriod", "00:10:00");
            builder.UseSetting("Crm:Sync:WriteBatchMaxWait", "00:10:00");
            builder.UseSetting("Crm:Sync:PendingClaimTimeout", "01:00:00");
        }
    }

    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task AWriteOnAnIdleServiceSyncsAtOnceAndTheWritesRightAfterItShareOneJobThatWaitsTheWindow()
    {
        var lone = TestPhones.New();
        var first = await _client.PostCompletedOrderAsync(lone, 100m);

        // Succeeded well within the test's deadline, minutes before the window would end.
        await _client.JobAsync(first.SyncJobId!);
        var customer = await _client.CustomerByPhoneAsync(lone);
        Assert.Equal(1, (int)customer!["totalOrders"]!);
        Assert.Equal(100m, (decimal)customer["totalSpent"]!);

        // A burst right after that sync: five clients, 30 writes over five customers.
        var phones = Enumerable.Range(0, 5).Select(_ => TestPhones.New()).ToArray();
        var next = -1;
        var jobIds = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Task.WhenAll(Enumerable.Range(0, 5).Select(async _ =>
        {
            var client = factory.CreateClient();
            for (var n = Interlocked.Increment(ref next); n < 30; n = Interlocked.Increment(ref next))
                jobIds.Add((await client.PostCompletedOrderAsync(phones[n % 5], n + 1)).SyncJobId!);
        }));

        var shared = Assert.Single(jobIds.Distinct());
        Assert.NotEqual(first.SyncJobId, shared);
        // It is waiting out the window since the first sync started: nothing of the burst is synced yet.
        var job = await (await _client.GetAsync($"/api/jobs/{shared}")).ReadJsonAsync();
        Assert.NotEqual("Succeeded", (string?)job["state"]);
        foreach (var phone in phones)
            Assert.Null(await _client.CustomerByPhoneAsync(phone));
    }
}
