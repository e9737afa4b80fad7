using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Crm.Api.Orders;
using Crm.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;

namespace Crm.Tests.Background;

// Under a burst the shared order-write job waits while the writes keep coming and syncs once
// they pause for Crm:Sync:WriteQuietPeriod: a burst of any length within WriteBatchMaxWait is
// one job, and it is exact soon after its last write (docs/SYNC-RULES.md).
public class WriteBurstTests(WriteBurstTests.PauseFactory factory) : IClassFixture<WriteBurstTests.PauseFactory>
{
    // Every job after the first counts as claimed during a burst (the window is ten minutes),
    // a burst ends with a pause of 4 s (far above a loaded runner's stall between two writes),
    // and no burst of the test reaches the maximum wait.
    public sealed class PauseFactory : CrmApiFactory
    {
        public static readonly TimeSpan QuietPeriod = TimeSpan.FromSeconds(4);

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            WithoutRecurringJobs(builder);
            builder.UseSetting("Crm:Sync:WriteBatchWindow", "00:10:00");
            builder.UseSetting("Crm:Sync:WriteQuietPeriod", QuietPeriod.ToString());
            builder.UseSetting("Crm:Sync:WriteBatchMaxWait", "00:10:00");
            builder.UseSetting("Crm:Sync:PendingClaimTimeout", "01:00:00");
        }
    }

    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task ABurstLongerThanThePauseIsOneJobThatSyncsOnceTheWritesPause()
    {
        // The first write on an idle service syncs at once and starts the burst's clock.
        var first = await _client.PostCompletedOrderAsync(TestPhones.New(), 100m);
        await _client.JobAsync(first.SyncJobId!);

        // Writes for 2.5 pauses' length, never pausing for one: the shared job must still be
        // waiting when they end.
        var phones = Enumerable.Range(0, 4).Select(_ => TestPhones.New()).ToArray();
        var jobIds = new HashSet<string>();
        var burst = Stopwatch.StartNew();
        for (var n = 0; burst.Elapsed < 2.5 * PauseFactory.QuietPeriod; n++)
        {
            jobIds.Add((await _client.PostCompletedOrderAsync(phones[n % phones.Length], n + 1)).SyncJobId!);
            await Task.Delay(PauseFactory.QuietPeriod / 8);
        }
        var shared = Assert.Single(jobIds);
        Assert.NotEqual(first.SyncJobId, shared);
        var job = await (await _client.GetAsync($"/api/jobs/{shared}")).ReadJsonAsync();
        Assert.NotEqual("Succeeded", (string?)job["state"]);

        // Once they pause, the job syncs every customer of the burst.
        await _client.JobAsync(shared);
        foreach (var phone in phones)
            Assert.NotNull(await _client.CustomerByPhoneAsync(phone));
    }
}
