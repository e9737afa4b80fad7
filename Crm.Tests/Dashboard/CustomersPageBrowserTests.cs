using System.Net.Http.Json;
using System.Text;
using Crm.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Crm.Tests.Dashboard;

// The operator's desk in Debian's Chromium, driven by Playwright (BrowserApp, as
// DashboardBrowserTests): finding a customer, its card, the CSV link, a note, and names with
// markup in them shown as text.
public class CustomersPageBrowserTests : IAsyncLifetime
{
    private readonly CrmApiFactory _factory = new();
    private BrowserApp _app = null!;

    public async Task InitializeAsync() => _app = await BrowserApp.StartAsync(_factory);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private Task<IPage> SignedInPageAsync(TestKey key) => _app.SignedInPageAsync(key, acceptDownloads: true);

    private async Task CreateCustomerAsync(string name, string phone, string city = "Казань")
    {
        var response = await _factory.CreateClient().PostAsJsonAsync("/api/customers", new { name, phone, email = "desk@example.com", city });
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
    }

    private static async Task SearchAsync(IPage page, string text)
    {
        await page.Locator("#customer-search").FillAsync(text);
        await page.Locator("#customer-find").ClickAsync();
        await Assertions.Expect(page.Locator("#customer-search")).ToHaveValueAsync(text);
    }

    private static ILocator Rows(IPage page) => page.Locator("#customers tbody tr");

    [Fact]
    public async Task AnOperatorFindsACustomerByTwoWordsAndByAPhoneFragmentOpensTheCardAndAddsANote()
    {
        await CreateCustomerAsync("Иван Иванов", "+79120004567");
        await CreateCustomerAsync("Иван Петров", "+79130001111");
        await CreateCustomerAsync("Пётр Сидоров", "+79140002222");

        var page = await SignedInPageAsync(TestKeys.Operator);
        await page.GotoAsync("/hangfire");
        await page.Locator("a", new PageLocatorOptions { HasText = "Customers" }).First.ClickAsync();
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Customers");

        // Two words in the other order.
        await SearchAsync(page, "Иванов Иван");
        await Assertions.Expect(Rows(page)).ToHaveCountAsync(1);
        await Assertions.Expect(Rows(page).First).ToContainTextAsync("Иван Иванов");

        // A phone fragment as it is dialled at home.
        await SearchAsync(page, "8 912 000");
        await Assertions.Expect(Rows(page)).ToHaveCountAsync(1);
        await Assertions.Expect(Rows(page).First).ToContainTextAsync("+79120004567");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = BrowserApp.ScreenshotPath("customers.png") });

        await Rows(page).First.GetByRole(AriaRole.Link, new() { Name = "Иван Иванов" }).ClickAsync();
        await Assertions.Expect(page.Locator("#customer-name")).ToHaveTextAsync("Иван Иванов");
        await Assertions.Expect(page.Locator("#customer-phones")).ToContainTextAsync("+79120004567");
        await Assertions.Expect(page.Locator("#customer-category")).ToHaveTextAsync("new");

        await page.Locator("#note-text").FillAsync("Перезвонить в пятницу");
        await page.Locator("#note-add").ClickAsync();
        var note = page.Locator("#customer-notes li").First;
        await Assertions.Expect(note.Locator(".customer-note")).ToHaveTextAsync("Перезвонить в пятницу");
        await Assertions.Expect(note).ToContainTextAsync(TestKeys.Operator.Name);
        await Assertions.Expect(page.Locator("#customer-timeline")).ToContainTextAsync("Перезвонить в пятницу");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = BrowserApp.ScreenshotPath("customer-card.png") });
    }

    [Fact]
    public async Task TheCsvLinkDownloadsTheCustomersOfTheFilter()
    {
        await CreateCustomerAsync("Ольга Смирнова", "+79120005555", "Казань");
        await CreateCustomerAsync("Олег Смирнов", "+79120006666", "Пермь");

        var page = await SignedInPageAsync(TestKeys.Reader);
        await page.GotoAsync("/hangfire/customers");
        await page.Locator("#filter-city").FillAsync("казань");
        await SearchAsync(page, "Смирнов");
        await Assertions.Expect(Rows(page)).ToHaveCountAsync(1);

        var download = await page.RunAndWaitForDownloadAsync(() => page.Locator("#customers-csv").ClickAsync());
        var path = await download.PathAsync();
        var bytes = await File.ReadAllBytesAsync(path);

        Assert.Equal(new byte[] { 0xEF, 0xBB, 0xBF }, bytes[..3]);
        var csv = Encoding.UTF8.GetString(bytes[3..]);
        Assert.Contains("Ольга Смирнова", csv);
        Assert.DoesNotContain("Олег Смирнов", csv);
    }

    [Fact]
    public async Task ANameWithMarkupIsShownAsText()
    {
        const string name = "<b>Жирный</b> <img src=x onerror=\"document.title='owned'\"> Клиент";
        await CreateCustomerAsync(name, "+79120007777");

        var page = await SignedInPageAsync(TestKeys.Reader);
        await page.GotoAsync("/hangfire/customers?search=%D0%BA%D0%BB%D0%B8%D0%B5%D0%BD%D1%82");
        var link = Rows(page).First.Locator("a.customer-name");
        await Assertions.Expect(link).ToHaveTextAsync(name);
        await Assertions.Expect(page.Locator("#customers b, #customers img")).ToHaveCountAsync(0);

        await link.ClickAsync();
        await Assertions.Expect(page.Locator("#customer-name")).ToHaveTextAsync(name);
        await Assertions.Expect(page.Locator("#customer-contacts b, #customer-contacts img, h1 b")).ToHaveCountAsync(0);
        Assert.NotEqual("owned", await page.TitleAsync());
    }
}
