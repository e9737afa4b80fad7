using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.RegularExpressions;
using Crm.Tests.Infrastructure;

namespace Crm.Tests.Dashboard;

// The dashboard's pages as HTML, without a browser: what they count and where they link.
public class DashboardPagesTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private Task AddOrderDirectlyAsync(string phone, string city, DateTime at) =>
        factory.ExecuteAsync("""
            INSERT INTO orders (customer_name, customer_phone, normalized_phone, customer_email, delivery_city,
                                total_amount, status, created_at, updated_at)
            VALUES ('Заказчик', @phone, @phone, 'buyer@example.com', @city, 100, 'completed', @at, @at)
            """, ("phone", phone), ("city", city), ("at", at));

    private async Task<string> PageAsync(string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{TestKeys.Reader.Name}:{TestKeys.Reader.Key}")));
        var response = await factory.CreateClient(key: null).SendAsync(request);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }

    [Fact]
    public async Task TheWebhooksCardCountsOneSubscriptionInTheSingular()
    {
        var now = factory.Clock.GetUtcNow().UtcDateTime;
        await factory.ExecuteAsync("""
            INSERT INTO webhooks (url, events, enabled, secret, created_at, updated_at)
            VALUES ('https://hooks.example.com/one', '{*}', true, 'whsec_ZGFzaGJvYXJkLXRlc3Qtc2VjcmV0LTA0', @now, @now)
            """, ("now", now));

        var html = await PageAsync("/hangfire/syncs");

        var pending = Regex.Match(html, """<p id="webhooks-pending">.*?</p>""").Value;
        Assert.Equal("""<p id="webhooks-pending">1 subscription (1 enabled, 0 failing) · <b>0</b> events pending</p>""", pending);
    }

    [Fact]
    public async Task TheJobsDashboardLinksBackToTheApiReference()
    {
        var html = await PageAsync("/hangfire");

        // Hangfire's "Back to site" is DashboardOptions.AppPath; the app serves no page at "/".
        Assert.Contains("href=\"/scalar\"", html);
        Assert.DoesNotContain("href=\"/\"", html);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await factory.CreateClient(key: null).GetAsync("/scalar")).StatusCode);
    }

    [Fact]
    public async Task ARevertedRunsChangesPageCountsTheRowsItLists()
    {
        // A force sync takes over the city of the customer's newer order; the revert puts the old one back.
        var phone = "+7999" + Random.Shared.Next(1_000_000, 9_999_999);
        var now = factory.Clock.GetUtcNow().UtcDateTime;
        await AddOrderDirectlyAsync(phone, "Москва", now.AddDays(-2));
        await _client.FullSyncRunAsync("default");
        await AddOrderDirectlyAsync(phone, "Казань", now.AddDays(-1));
        var runId = await _client.FullSyncRunAsync("force");
        var revert = (string)(await (await _client.PostAsync($"/api/sync/runs/{runId}/revert", null)).ReadJsonAsync())["jobId"]!;
        await _client.JobAsync(revert);

        var html = await PageAsync($"/hangfire/syncs/{runId}/changes");

        var rows = Regex.Matches(html[html.IndexOf("id=\"sync-changes\"", StringComparison.Ordinal)..], "<tr><td>").Count;
        var all = int.Parse(Regex.Match(html, """>all <span class="badge">(\d+)</span>""").Groups[1].Value);
        var city = int.Parse(Regex.Match(html, """>city <span class="badge">(\d+)</span>""").Groups[1].Value);
        Assert.Equal(rows, all);
        // The run's change and the revert's.
        Assert.Equal(2, city);
        Assert.Contains(">revert</td>", html);
    }
}
