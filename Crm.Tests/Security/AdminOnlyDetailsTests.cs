using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Crm.Jobs.Ledger;
using Crm.Jobs.Sync;
using Crm.Jobs.Webhooks;
using Crm.Tests.Infrastructure;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;

namespace Crm.Tests.Security;

// A webhook URL may carry a capability token and /api/webhooks is admin-only: what the
// Syncs page and the job routes show of subscriptions and of webhook and ledger jobs follows.
public class AdminOnlyDetailsTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    private const string Token = "cap-token-7f3a9c";
    private const string Url = $"https://hooks.example.com/crm/{Token}?secret={Token}";
    private const string Answer = "HTTP 500: receiver says no to order of +79990001122";

    private static AuthenticationHeaderValue Basic(TestKey key) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{key.Name}:{key.Key}")));

    private async Task<HttpResponseMessage> DashboardAsync(string path, TestKey key)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = Basic(key);
        return await factory.CreateClient(key: null).SendAsync(request);
    }

    [Fact]
    public async Task OnlyAdminsSeeAFailingSubscriptionsUrlAndTheReceiversAnswer()
    {
        var now = factory.Clock.GetUtcNow().UtcDateTime;
        await factory.ExecuteAsync("""
            INSERT INTO webhooks (url, events, enabled, secret, created_at, updated_at, failing_since, last_error)
            VALUES (@url, '{*}', true, 'whsec_YWRtaW4tb25seS10ZXN0LXNlY3JldC0wMQ==', @now, @now, @now, @error)
            """, ("url", Url), ("error", Answer), ("now", now));

        foreach (var key in new[] { TestKeys.Reader, TestKeys.Operator })
        {
            var response = await DashboardAsync("/hangfire/syncs", key);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var html = await response.Content.ReadAsStringAsync();
            Assert.Contains("""<td class="webhook-url">hooks.example.com</td>""", html);
            Assert.DoesNotContain(Token, html);
            Assert.DoesNotContain("receiver says no", html);
            Assert.DoesNotContain("79990001122", html);
            Assert.Contains("webhooks-admin-only", html);
        }

        var admin = await (await DashboardAsync("/hangfire/syncs", TestKeys.Admin)).Content.ReadAsStringAsync();
        Assert.Contains(WebUtility.HtmlEncode(Url), admin);
        Assert.Contains(WebUtility.HtmlEncode(Answer), admin);
    }

    [Fact]
    public async Task WebhookAndLedgerJobsDetailsAreForAdminsOnly()
    {
        var jobs = factory.Services.GetRequiredService<IBackgroundJobClient>();
        var delivery = jobs.Enqueue<WebhookJobs>(j => j.DeliverAsync(987_654, 0, null, CancellationToken.None));
        var prune = jobs.Enqueue<LedgerJobs>(j => j.PruneAsync(CancellationToken.None));
        var sync = jobs.Enqueue<SyncJobs>(j => j.PruneRunsAsync(CancellationToken.None));
        var admin = factory.CreateClient(TestKeys.Admin);
        await admin.JobAsync(delivery);
        await admin.JobAsync(prune);
        await admin.JobAsync(sync);

        foreach (var key in new[] { TestKeys.Reader, TestKeys.Operator })
        {
            var client = factory.CreateClient(key);
            foreach (var job in new[] { delivery, prune })
            {
                var refused = await client.GetAsync($"/api/jobs/{job}");
                var problem = await refused.AssertProblemAsync(HttpStatusCode.Forbidden);
                Assert.DoesNotContain("987654", problem.ToJsonString());
                Assert.Equal(HttpStatusCode.Forbidden, (await DashboardAsync($"/hangfire/jobs/details/{job}", key)).StatusCode);
            }
            // Other jobs are every reader's.
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/jobs/{sync}")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await DashboardAsync($"/hangfire/jobs/details/{sync}", key)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await DashboardAsync("/hangfire/jobs/succeeded", key)).StatusCode);
        }

        foreach (var job in new[] { delivery, prune })
        {
            Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"/api/jobs/{job}")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await DashboardAsync($"/hangfire/jobs/details/{job}", TestKeys.Admin)).StatusCode);
        }
        // The delivery's result names its subscription.
        Assert.Contains("987654", await admin.GetStringAsync($"/api/jobs/{delivery}"));
    }
}
