using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.RegularExpressions;
using Crm.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;

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

    private Task<string> PageAsync(string path) => PageAsync(factory, path);

    private static async Task<string> PageAsync(WebApplicationFactory<Program> factory, string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{TestKeys.Reader.Name}:{TestKeys.Reader.Key}")));
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Remove("X-Api-Key");
        var response = await client.SendAsync(request);
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

    // A sync run row that started at a known UTC time.
    private async Task<long> RunStartedAtAsync(DateTime startedAt)
    {
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(factory.ConnectionString);
        await using var command = dataSource.CreateCommand("""
            INSERT INTO sync_runs (mode, status, started_at, finished_at, created_count, updated_count, unchanged_count,
                                   skipped_count, error_count, total_customers, duration_ms, dry_run)
            VALUES ('force', 'succeeded', @at, @at + interval '2 seconds', 0, 1, 0, 0, 0, 1, 2000, false) RETURNING id
            """);
        command.Parameters.AddWithValue("at", startedAt);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task TheSyncPagesShowTimesInMoscowByDefaultAndSaySo()
    {
        var runId = await RunStartedAtAsync(new DateTime(2026, 10, 3, 2, 0, 0, DateTimeKind.Utc));

        var syncs = await PageAsync("/hangfire/syncs");
        var changes = await PageAsync($"/hangfire/syncs/{runId}/changes");

        Assert.Contains("<th>Started (Europe/Moscow)</th>", syncs);
        Assert.Contains("<td>2026-10-03 05:00:00</td>", syncs);
        Assert.DoesNotContain("(UTC)", syncs);
        Assert.Contains("started 2026-10-03 05:00:00 (Europe/Moscow)", changes);
    }

    [Fact]
    public async Task AConfiguredZoneShiftsTheTimesOnThePages()
    {
        var runId = await RunStartedAtAsync(new DateTime(2026, 10, 4, 2, 0, 0, DateTimeKind.Utc));
        using var vladivostok = factory.WithWebHostBuilder(b => b.UseSetting("Crm:Dashboard:TimeZone", "Asia/Vladivostok"));

        var syncs = await PageAsync(vladivostok, "/hangfire/syncs");
        var changes = await PageAsync(vladivostok, $"/hangfire/syncs/{runId}/changes");

        Assert.Contains("<th>Started (Asia/Vladivostok)</th>", syncs);
        Assert.Contains("<td>2026-10-04 12:00:00</td>", syncs);
        Assert.Contains("started 2026-10-04 12:00:00 (Asia/Vladivostok)", changes);
    }
}
