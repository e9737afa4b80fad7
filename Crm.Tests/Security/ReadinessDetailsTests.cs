using System.Net.Http.Json;
using Crm.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;

namespace Crm.Tests.Security;

// /health/ready answers anyone with the status alone; what each check found (hosts, user
// names, a failed password's message) needs a key. Its checks run at most once per
// Crm:Health:CacheDuration, whoever asks.
public class ReadinessDetailsTests(ReadinessDetailsTests.Factory factory) : IClassFixture<ReadinessDetailsTests.Factory>
{
    // A window no test outlasts: a second call is the first one's report, by construction.
    public sealed class Factory : CrmApiFactory
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Crm:Health:CacheDuration", "01:00:00");
        }
    }

    [Fact]
    public async Task AnonymousCallersGetTheStatusOnlyAndEveryoneTheSameCachedReport()
    {
        var anonymous = await factory.CreateClient(key: null).GetAsync("/health/ready");
        var body = (await anonymous.ReadJsonAsync()).AsObject();
        Assert.Equal(["status"], body.Select(p => p.Key));
        Assert.Equal("no-store", anonymous.Headers.CacheControl?.ToString());

        var withKey = await (await factory.CreateClient(TestKeys.Reader).GetAsync("/health/ready")).ReadJsonAsync();
        Assert.Equal((string?)body["status"], (string?)withKey["status"]);
        Assert.Contains("database", withKey["checks"]!.AsObject().Select(p => p.Key));
        var checkedAt = (string?)withKey["checkedAt"];
        Assert.NotNull(checkedAt);

        // A flood of probes: one run of the checks served all of them.
        await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => factory.CreateClient(key: null).GetAsync("/health/ready")));
        var again = await (await factory.CreateClient(TestKeys.Admin).GetAsync("/health/ready")).ReadJsonAsync();
        Assert.Equal(checkedAt, (string?)again["checkedAt"]);

        // A wrong key is no key: the status alone.
        var stranger = factory.CreateClient(new TestKey("stranger", "not-a-configured-key-000000", "admin"));
        Assert.Equal(["status"], (await (await stranger.GetAsync("/health/ready")).ReadJsonAsync()).AsObject().Select(p => p.Key));
    }
}
