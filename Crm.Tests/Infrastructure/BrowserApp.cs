using Microsoft.Playwright;

namespace Crm.Tests.Infrastructure;

// The app on a real Kestrel port and Debian's Chromium, driven by Playwright (no browser
// download), as an operator meets the dashboard and Scalar. One per browser test class.
public sealed class BrowserApp : IAsyncDisposable
{
    private const string Chromium = "/usr/bin/chromium";

    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    private BrowserApp(CrmApiFactory factory, string baseUrl, IPlaywright playwright, IBrowser browser)
    {
        Factory = factory;
        BaseUrl = baseUrl;
        _playwright = playwright;
        _browser = browser;
    }

    public CrmApiFactory Factory { get; }

    // http://127.0.0.1:port, without the trailing slash.
    public string BaseUrl { get; }

    public static async Task<BrowserApp> StartAsync(CrmApiFactory factory)
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: install the Debian package chromium (.ci/run does).");
        await factory.InitializeAsync();
        factory.UseKestrel(0);
        factory.StartServer();
        var baseUrl = factory.ClientOptions.BaseAddress.ToString().TrimEnd('/');

        Assertions.SetDefaultExpectTimeout(120_000);
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            // This machine has no network beyond loopback: keep Chromium from calling home.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        return new BrowserApp(factory, baseUrl, playwright, browser);
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await ((IAsyncLifetime)Factory).DisposeAsync();
    }

    public Task<IPage> SignedInPageAsync(TestKey key, bool acceptDownloads = false) =>
        NewPageAsync(new HttpCredentials { Username = key.Name, Password = key.Key }, acceptDownloads);

    // Two cores shared with the rest of the suite: loading Scalar's bundle or a dashboard
    // page can take far longer than Playwright's defaults (30 s navigation, 5 s expect).
    public async Task<IPage> NewPageAsync(HttpCredentials? credentials = null, bool acceptDownloads = false)
    {
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = BaseUrl,
            HttpCredentials = credentials,
            ViewportSize = new ViewportSize { Width = 1400, Height = 900 },
            AcceptDownloads = acceptDownloads,
        });
        context.SetDefaultNavigationTimeout(180_000);
        context.SetDefaultTimeout(120_000);
        return await context.NewPageAsync();
    }

    // Where screenshots go: the test output, or docs/ when CRM_SCREENSHOT_DIR says so.
    public static string ScreenshotPath(string name) =>
        Path.Combine(Environment.GetEnvironmentVariable("CRM_SCREENSHOT_DIR") ?? AppContext.BaseDirectory, name);
}
