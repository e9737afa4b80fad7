using System.Collections.Concurrent;
using System.Net.Http.Json;
using Crm.Jobs.Orders;
using Crm.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;

namespace Crm.Tests.Dashboard;

// The dashboard as an operator meets it: Debian's Chromium, driven by Playwright (no
// browser download), against the app on a real Kestrel port.
public class DashboardBrowserTests : IAsyncLifetime
{
    private readonly CrmApiFactory _factory = new();
    private BrowserApp _app = null!;
    private string _baseUrl = "";

    public async Task InitializeAsync()
    {
        _app = await BrowserApp.StartAsync(_factory);
        _baseUrl = _app.BaseUrl;
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private Task<IPage> SignedInPageAsync(TestKey key) => _app.SignedInPageAsync(key);

    private Task<IPage> NewPageAsync() => _app.NewPageAsync();

    private static async Task ReloadUntilAsync(IPage page, string path, string text)
    {
        await Waiting.UntilAsync(async () =>
        {
            await page.GotoAsync(path);
            return await page.ContentAsync();
        }, html => html.Contains(text), $"'{text}' on {path}");
    }

    [Fact]
    public async Task AnAdminTriggersTheRecurringRecalculationAndSeesItSucceed()
    {
        var page = await SignedInPageAsync(TestKeys.Admin);
        await page.GotoAsync("/hangfire/recurring");
        var row = page.Locator("tr", new PageLocatorOptions { HasText = "recalculate-categories" });
        await Assertions.Expect(row).ToContainTextAsync("0 3 * * *");

        await row.Locator("input[type=checkbox]").CheckAsync();
        await page.RunAndWaitForResponseAsync(
            () => page.Locator("button", new PageLocatorOptions { HasText = "Trigger now" }).ClickAsync(),
            response => response.Url.Contains("/recurring/trigger") && response.Ok);

        // The dashboard reloads itself after a command: look from a second tab.
        var jobs = await page.Context.NewPageAsync();
        await ReloadUntilAsync(jobs, "/hangfire/jobs/succeeded", "Recalculate customer categories");
        await jobs.ScreenshotAsync(new PageScreenshotOptions { Path = BrowserApp.ScreenshotPath("dashboard.png") });
    }

    [Fact]
    public async Task AFailingJobWaitsInRetries()
    {
        await using var db = _factory.CreateDbContext();
        await db.Database.ExecuteSqlRawAsync(CityRefusal.CreateSql("Отказ"));
        try
        {
            var phone = TestPhones.New();
            var order = await (await _factory.CreateClient().PostAsJsonAsync("/api/orders", new
            {
                customerName = "Неудача", customerPhone = phone, deliveryCity = "Отказ", totalAmount = 10, status = "completed",
            })).ReadJsonAsync();
            await Waiting.UntilAsync(
                async () => await (await _factory.CreateClient().GetAsync($"/api/jobs/{order["syncJobId"]}")).ReadJsonAsync(),
                job => (int)job["retryCount"]! >= 1, "the first failure");

            var page = await SignedInPageAsync(TestKeys.Reader);
            await ReloadUntilAsync(page, "/hangfire/retries", "Sync customers of pending order writes");
        }
        finally
        {
            await db.Database.ExecuteSqlRawAsync(CityRefusal.DropSql);
        }
    }

    [Fact]
    public async Task TheSyncsPageListsRunsLinkedToTheirJobs()
    {
        var client = _factory.CreateClient();
        var accepted = await (await client.PostAsJsonAsync("/api/sync", new { mode = "default" })).ReadJsonAsync();
        var jobId = (string)accepted["jobId"]!;
        await client.JobAsync(jobId);

        var page = await SignedInPageAsync(TestKeys.Reader);
        await page.GotoAsync("/hangfire");
        await page.Locator("a", new PageLocatorOptions { HasText = "Syncs" }).First.ClickAsync();
        var run = page.Locator("#sync-runs tr", new PageLocatorOptions { HasText = $"#{jobId}" });
        await Assertions.Expect(run).ToContainTextAsync("default");
        await Assertions.Expect(run).ToContainTextAsync("succeeded");
        await Assertions.Expect(page.Locator("#shop-follower")).ToContainTextAsync("Not following the shop's database");
        await Assertions.Expect(page.Locator("#webhooks")).ToContainTextAsync("No webhook subscriptions");

        await run.GetByRole(AriaRole.Link, new() { Name = $"#{jobId}", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("h1")).ToContainTextAsync("Full sync (Default)");
    }

    // Subscriptions written as the delivery job leaves them: one failing, one it disabled
    // (with three events waiting, the oldest 2.5 h old), one healthy. The URL and the errors
    // are the subscriber's and the receivers' text: markup in them is shown, never run. An
    // admin's view: other keys see hosts only (AdminOnlyDetailsTests).
    [Fact]
    public async Task TheSyncsPageShowsTheWebhookBacklogAndWhyTheFailingSubscriptionsFail()
    {
        const string url = "https://hooks.example.com/crm?a=1&b=<i>2</i>";
        const string error = "HTTP 500: <script>document.title = 'owned'</script>";
        const string reason = "Every delivery failed since 2026-10-31 10:00:00 UTC (Crm:Webhooks:DisableAfter); last error: HTTP 502: <b>bad gateway</b>";
        var now = _factory.Clock.GetUtcNow().UtcDateTime;
        // Only the disabled subscription has events: nothing is dispatched while the page is read.
        await _factory.ExecuteAsync("""
            WITH w AS (
                INSERT INTO webhooks (url, events, enabled, secret, created_at, updated_at, failing_since, last_error, disabled_reason)
                VALUES (@url, '{*}', true, 'whsec_ZGFzaGJvYXJkLXRlc3Qtc2VjcmV0LTAx', @now, @now, @now - interval '20 minutes', @error, NULL),
                       ('https://hooks.example.com/gone', '{*}', false, 'whsec_ZGFzaGJvYXJkLXRlc3Qtc2VjcmV0LTAy', @now, @now,
                        @now - interval '26 hours', 'HTTP 502: <b>bad gateway</b>', @reason),
                       ('https://hooks.example.com/fine', '{*}', true, 'whsec_ZGFzaGJvYXJkLXRlc3Qtc2VjcmV0LTAz', @now, @now, NULL, NULL, NULL)
                RETURNING id, enabled
            )
            INSERT INTO webhook_events (webhook_id, type, occurred_at, data)
            SELECT w.id, 'customer.created', @now - make_interval(mins => 151 - i), '{}'
            FROM w, generate_series(1, 3) AS i WHERE NOT w.enabled
            """, ("url", url), ("error", error), ("reason", reason), ("now", now));

        var page = await SignedInPageAsync(TestKeys.Admin);
        await page.GotoAsync("/hangfire/syncs");
        var card = page.Locator("#webhooks");
        await Assertions.Expect(card.Locator("#webhooks-pending")).ToHaveTextAsync(
            "3 subscriptions (2 enabled, 2 failing) · 3 events pending · the oldest has waited 2 h 30 min " +
            $"(since {now.AddMinutes(-150).AddHours(3):yyyy-MM-dd HH:mm:ss} Europe/Moscow)");

        // The longest failing first.
        var rows = card.Locator("#webhooks-failing tbody tr");
        await Assertions.Expect(rows).ToHaveCountAsync(2);
        await Assertions.Expect(rows.Nth(0)).ToContainTextAsync("https://hooks.example.com/gone");
        await Assertions.Expect(rows.Nth(0)).ToContainTextAsync("disabled");
        // Moscow: UTC+3 all year.
        await Assertions.Expect(rows.Nth(0)).ToContainTextAsync($"{now.AddHours(-26).AddHours(3):yyyy-MM-dd HH:mm:ss}");
        await Assertions.Expect(rows.Nth(0).Locator(".webhook-error")).ToHaveTextAsync(reason);
        await Assertions.Expect(rows.Nth(0).Locator("td").Nth(4)).ToHaveTextAsync("3");
        await Assertions.Expect(rows.Nth(1)).ToContainTextAsync("failing");
        await Assertions.Expect(rows.Nth(1).Locator(".webhook-url")).ToHaveTextAsync(url);
        await Assertions.Expect(rows.Nth(1).Locator(".webhook-error")).ToHaveTextAsync(error);
        await Assertions.Expect(rows.Nth(1).Locator("td").Nth(4)).ToHaveTextAsync("0");
        await Assertions.Expect(card).Not.ToContainTextAsync("hooks.example.com/fine");

        // Shown as text: no element came out of the values, and no script of theirs ran.
        await Assertions.Expect(card.Locator("#webhooks-failing script, #webhooks-failing b, #webhooks-failing i")).ToHaveCountAsync(0);
        Assert.NotEqual("owned", await page.TitleAsync());
    }

    // A full sync of the orders so far; returns its job and run ids.
    private async Task<(string JobId, long RunId)> SyncAsync(HttpClient client, object request)
    {
        var jobId = (string)(await (await client.PostAsJsonAsync("/api/sync", request)).ReadJsonAsync())["jobId"]!;
        await client.JobAsync(jobId);
        var runs = await (await client.GetAsync("/api/sync/runs")).ReadJsonAsync();
        return (jobId, (long)runs["items"]!.AsArray().First(r => (string?)r!["jobId"] == jobId)!["id"]!);
    }

    // An order written around the API, so that only a full sync creates its customer.
    private async Task<string> AddOrderDirectlyAsync()
    {
        var phone = TestPhones.New();
        await using var db = _factory.CreateDbContext();
        var now = _factory.Clock.GetUtcNow().UtcDateTime;
        db.Orders.Add(new Order
        {
            CustomerName = "Прямой Заказ", CustomerPhone = phone, NormalizedPhone = phone, TotalAmount = 100m,
            Status = OrderStatus.Completed, CreatedAt = now, UpdatedAt = now,
        });
        await db.SaveChangesAsync();
        return phone;
    }

    private ILocator RunRow(IPage page, string jobId) =>
        page.Locator("#sync-runs tbody tr").Filter(new() { Has = page.GetByRole(AriaRole.Link, new() { Name = $"#{jobId}", Exact = true }) });

    [Fact]
    public async Task TheSyncsPageMarksDryRunsAndRevertsAndLinksEachRunToItsChanges()
    {
        var client = _factory.CreateClient();
        var phone = await AddOrderDirectlyAsync();
        var real = await SyncAsync(client, new { mode = "default" });
        var revert = (string)(await (await client.PostAsync($"/api/sync/runs/{real.RunId}/revert", null)).ReadJsonAsync())["jobId"]!;
        await client.JobAsync(revert);
        await AddOrderDirectlyAsync();
        var dry = await SyncAsync(client, new { mode = "default", dryRun = true });

        var page = await SignedInPageAsync(TestKeys.Reader);
        await page.GotoAsync("/hangfire/syncs");
        var dryRow = RunRow(page, dry.JobId);
        await Assertions.Expect(dryRow.Locator(".dry-run")).ToHaveTextAsync("dry run");
        await Assertions.Expect(dryRow.Locator(".sync-changes")).ToContainTextAsync("created 1");
        // Its changes were rolled back with it: nothing to link to.
        await Assertions.Expect(dryRow.Locator("a.sync-changes")).ToHaveCountAsync(0);

        var realRow = RunRow(page, real.JobId);
        await Assertions.Expect(realRow.Locator(".dry-run")).ToHaveCountAsync(0);
        await Assertions.Expect(realRow.Locator(".reverted")).ToHaveTextAsync("reverted");
        var changes = realRow.Locator("a.sync-changes");
        await Assertions.Expect(changes).ToContainTextAsync("created 1");
        await Assertions.Expect(changes).ToHaveAttributeAsync("href", $"/hangfire/syncs/{real.RunId}/changes");

        await changes.ClickAsync();
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync($"Sync run {real.RunId}: changes");
        await Assertions.Expect(page.Locator("#sync-change-fields")).ToContainTextAsync("created");
        var created = page.Locator("#sync-changes tr", new PageLocatorOptions { HasText = phone });
        await Assertions.Expect(created).ToContainTextAsync("created");
        await Assertions.Expect(created).ToContainTextAsync("sync:default");
    }

    [Fact]
    public async Task ScalarShowsTheApiWithAPlaceForTheKey()
    {
        var page = await NewPageAsync();
        await page.GotoAsync("/scalar");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "crm-minimal API" }))
            .ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText("X-Api-Key").First).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText("List customers: filter, search, order, page").First).ToBeVisibleAsync();
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = BrowserApp.ScreenshotPath("scalar.png") });
    }

    [Fact]
    public async Task ScalarLoadsEverythingFromTheAppAndOffersNoWayOutOfIt()
    {
        var page = await NewPageAsync();
        var requested = new ConcurrentQueue<string>();
        page.Request += (_, request) => requested.Enqueue(request.Url);

        await page.GotoAsync("/scalar");
        await Assertions.Expect(page.GetByText("List customers: filter, search, order, page").First)
            .ToBeVisibleAsync();
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);

        // Nothing offers to send the document, the key or the reader to a third party.
        foreach (var name in new[] { "Deploy", "Ask AI", "Generate SDK", "Share", "Configure", "Open API Client", "MCP" })
        {
            await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = name })).ToHaveCountAsync(0);
            await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = name })).ToHaveCountAsync(0);
        }
        // No link leaves the app but the tool's credit, which carries nothing of ours.
        var links = await page.Locator("a[href]").EvaluateAllAsync<string[]>("links => links.map(a => a.href)");
        var offSite = links.Where(href => href.StartsWith("http") && !href.StartsWith(_baseUrl + "/")
            && !href.StartsWith("https://scalar.com/?utm_source=powered-by")).ToList();
        Assert.True(offSite.Count == 0, "Links off the app: " + string.Join(", ", offSite));

        // A test request goes to the app itself (no proxy), and comes back with its answer.
        await page.GetByRole(AriaRole.Button, new() { Name = "Test Request" }).First.ClickAsync();
        await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new() { Name = "Send" }).First.ClickAsync(),
            response => response.Url.StartsWith(_baseUrl + "/api/customers"));
        await Assertions.Expect(page.GetByText("401 Unauthorized").First).ToBeVisibleAsync();

        // Scripts, styles and fonts come from the app too, never from a CDN.
        var elsewhere = requested.Where(url => url.StartsWith("http") && !url.StartsWith(_baseUrl + "/")).ToList();
        Assert.True(elsewhere.Count == 0, "Scalar asked other hosts for: " + string.Join(", ", elsewhere));
    }
}
