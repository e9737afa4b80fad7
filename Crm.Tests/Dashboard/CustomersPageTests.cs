using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.RegularExpressions;
using Crm.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;

namespace Crm.Tests.Dashboard;

// The desk's pages as HTML, without a browser: the Customers page (GET /api/customers' search
// and filters), a customer's card, and its note form with the antiforgery token.
public class CustomersPageTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    private readonly HttpClient _api = factory.CreateClient();

    // A dashboard client signed in as the key, with its own cookies (the antiforgery cookie),
    // not following redirects.
    private HttpClient Dashboard(TestKey key)
    {
        var client = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        client.DefaultRequestHeaders.Remove("X-Api-Key");
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{key.Name}:{key.Key}")));
        return client;
    }

    private async Task<long> CreateCustomerAsync(string name, string city = "Казань", string? phone = null)
    {
        var response = await _api.PostAsJsonAsync("/api/customers", new
        {
            name, phone = phone ?? TestPhones.New(), email = "desk@example.com", city, address = "ул. Ленина, 1",
        });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (long)(await response.ReadJsonAsync())["id"]!;
    }

    private static string Tag() => "Деск" + Random.Shared.Next(100_000, 999_999);

    private static async Task<string> HtmlAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var html = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{response.StatusCode}: {html}");
        return html;
    }

    private static List<string> NamesOnPage(string html) =>
        Regex.Matches(html, """<a class="customer-name" href="[^"]*">([^<]*)</a>""").Select(m => WebUtility.HtmlDecode(m.Groups[1].Value)).ToList();

    private static string TokenIn(string html) =>
        WebUtility.HtmlDecode(Regex.Match(html, """<meta name="csrf-token" content="([^"]+)">""").Groups[1].Value);

    [Fact]
    public async Task AReaderFindsCustomersAndTheirCardsOnTheCustomersPage()
    {
        var tag = Tag();
        var id = await CreateCustomerAsync($"Анна {tag}");

        var html = await HtmlAsync(await Dashboard(TestKeys.Reader).GetAsync($"/hangfire/customers?search={tag}"), HttpStatusCode.OK);

        Assert.Matches("""<li class="active">\s*<a href="/hangfire/customers">\s*Customers\s""", html);
        Assert.Equal([$"Анна {tag}"], NamesOnPage(html));
        Assert.Contains($"href=\"/hangfire/customers/{id}\"", html);
        Assert.Contains("<span id=\"customers-count\">1 customer</span>", html);
        Assert.Contains("Created (Europe/Moscow)", html);
        Assert.Contains($"href=\"/hangfire/customers/csv?search={Uri.EscapeDataString(tag)}\"", html);
    }

    // The picture of customers per category is on the page as it opens, not on every search.
    [Fact]
    public async Task ThePageAsItOpensShowsCustomersPerCategoryASearchDoesNot()
    {
        var tag = Tag();
        await CreateCustomerAsync($"Вера {tag}");
        var opened = await HtmlAsync(await Dashboard(TestKeys.Reader).GetAsync("/hangfire/customers"), HttpStatusCode.OK);
        Assert.Contains("<svg", opened);
        Assert.Contains("id=\"picture-categories\"", opened);
        var searched = await HtmlAsync(await Dashboard(TestKeys.Reader).GetAsync($"/hangfire/customers?search={tag}"), HttpStatusCode.OK);
        Assert.DoesNotContain("picture-categories", searched);
    }

    [Fact]
    public async Task TheFiltersSelectWhatTheApiSelectsInItsOrder()
    {
        var tag = Tag();
        await CreateCustomerAsync($"Борис {tag}", "Казань");
        await CreateCustomerAsync($"Андрей {tag}", "Казань");
        await CreateCustomerAsync($"Вера {tag}", "Пермь");
        const string filter = "&city=%D0%BA%D0%B0%D0%B7%D0%B0%D0%BD%D1%8C&category=new&ordering=name";

        var html = await HtmlAsync(await Dashboard(TestKeys.Reader).GetAsync($"/hangfire/customers?search={tag}{filter}"), HttpStatusCode.OK);
        var api = await (await _api.GetAsync($"/api/customers?search={tag}{filter}")).ReadJsonAsync();

        Assert.Equal([$"Андрей {tag}", $"Борис {tag}"], NamesOnPage(html));
        Assert.Equal(api["items"]!.AsArray().Select(c => (string)c!["name"]!), NamesOnPage(html));
        // The form shows the filter it applied.
        Assert.Contains("name=\"category\" value=\"new\" checked", html);
        Assert.Contains("<option value=\"name\" selected>", html);
    }

    [Fact]
    public async Task PageLinksKeepTheFilter()
    {
        var tag = Tag();
        for (var i = 0; i < 3; i++)
            await CreateCustomerAsync($"Лист{i} {tag}");

        var first = await HtmlAsync(await Dashboard(TestKeys.Reader).GetAsync($"/hangfire/customers?search={tag}&ordering=name&pageSize=2"), HttpStatusCode.OK);
        var next = WebUtility.HtmlDecode(Regex.Match(first, """id="customers-next" href="([^"]+)" """.Trim()).Groups[1].Value);
        Assert.Equal($"/hangfire/customers?search={Uri.EscapeDataString(tag)}&ordering=name&page=2&pageSize=2", next);
        var second = await HtmlAsync(await Dashboard(TestKeys.Reader).GetAsync(next), HttpStatusCode.OK);

        Assert.Equal([$"Лист0 {tag}", $"Лист1 {tag}"], NamesOnPage(first));
        Assert.Equal([$"Лист2 {tag}"], NamesOnPage(second));
        Assert.DoesNotContain("customers-next", second);
        Assert.Contains("id=\"customers-previous\"", second);
    }

    // A bad filter answers 400, as GET /api/customers does, with the page and its form, and the
    // validator's message naming the parameter.
    [Theory]
    [InlineData("minSpent=-1", "minSpent", "minSpent must not be negative.")]
    [InlineData("minOrders=abc", "minOrders", "minOrders must be a whole number.")]
    [InlineData("createdFrom=yesterday", "createdFrom", "createdFrom must be an ISO 8601 date, date and time, or negative duration (-P60D, -PT12H: that long before now).")]
    [InlineData("category=gold", "category", "Category must be one of:")]
    [InlineData("minSpent=10&maxSpent=5", "maxSpent", "maxSpent must not be less than minSpent.")]
    public async Task ABadFilterShowsTheValidatorsMessageNamingTheField(string query, string field, string message)
    {
        var html = await HtmlAsync(await Dashboard(TestKeys.Reader).GetAsync($"/hangfire/customers?{query}"), HttpStatusCode.BadRequest);

        Assert.Matches($"<li data-field=\"{field}\">{Regex.Escape(message)}", html);
        Assert.Contains("id=\"customer-filter\"", html);
        Assert.DoesNotContain("id=\"customers\"", html);
    }

    [Fact]
    public async Task TheCardShowsContactsPhonesStatisticsCategoryOrdersTimelineAndNotes()
    {
        var phone = TestPhones.New();
        var id = await CreateCustomerAsync($"Карточка {Tag()}", "Самара", phone);
        var other = TestPhones.New();
        Assert.Equal(HttpStatusCode.Created, (await _api.PostAsJsonAsync($"/api/customers/{id}/phones", new { phone = other })).StatusCode);
        var order = await (await _api.PostAsJsonAsync("/api/orders", new
        {
            customerName = "Карточка", customerPhone = phone, deliveryCity = "Самара", totalAmount = 1234.5m, status = "completed",
        })).ReadJsonAsync();
        await _api.JobAsync((string)order["syncJobId"]!);
        await _api.PostAsJsonAsync($"/api/customers/{id}/notes", new { note = "Звонить после обеда" });

        var html = await HtmlAsync(await Dashboard(TestKeys.Reader).GetAsync($"/hangfire/customers/{id}"), HttpStatusCode.OK);

        Assert.Contains("Самара", html);
        Assert.Contains("ул. Ленина, 1", html);
        Assert.Contains("desk@example.com", html);
        Assert.Matches($"id=\"customer-phones\"><li>{Regex.Escape(phone)} .*primary.*</li><li>{Regex.Escape(other)}</li>", html);
        Assert.Contains("<td>1234.50</td>", html);
        Assert.Contains("id=\"customer-category\">new</span>", html);
        var reason = (string)(await (await _api.GetAsync($"/api/customers/{id}")).ReadJsonAsync())["categoryReason"]!["text"]!;
        Assert.Contains($"<span id=\"customer-category-reason\">{WebUtility.HtmlEncode(reason)}</span>", html);
        Assert.Contains("<p id=\"customer-orders-count\">1 order</p>", html);
        Assert.Contains($"<tr><td>{(long)order["id"]!}</td>", html);
        Assert.Contains("Звонить после обеда", html);
        Assert.Contains("test-admin", html);
        Assert.Matches("id=\"customer-timeline-count\">\\d+ events</p>", html);
        Assert.Contains($"order #{(long)order["id"]!}: 1234.50, completed", html);
        // A reader has no form.
        Assert.DoesNotContain("id=\"note-form\"", html);
        Assert.Contains("id=\"note-form-readers\"", html);
    }

    [Fact]
    public async Task AnUnknownCustomersCardIsNotFound()
    {
        var html = await HtmlAsync(await Dashboard(TestKeys.Reader).GetAsync("/hangfire/customers/999999999"), HttpStatusCode.NotFound);
        Assert.Contains("id=\"customer-missing\"", html);
        Assert.Equal(HttpStatusCode.NotFound, (await Dashboard(TestKeys.Reader).GetAsync("/hangfire/customers/abc")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Dashboard(TestKeys.Reader).GetAsync("/hangfire/customers/9999999999999999999")).StatusCode);

        // A note for nobody: the foreign key decides, as for POST /api/customers/{id}/notes.
        var operatorClient = Dashboard(TestKeys.Operator);
        var token = TokenIn(await HtmlAsync(await operatorClient.GetAsync("/hangfire/customers"), HttpStatusCode.OK));
        var posted = await operatorClient.PostAsync("/hangfire/customers/999999999/notes", new FormUrlEncodedContent(
            [new("note", "Никому"), new("__RequestVerificationToken", token)]));
        Assert.Equal(HttpStatusCode.NotFound, posted.StatusCode);
    }

    [Fact]
    public async Task AnOperatorAddsANoteWrittenAsTheApiWritesIt()
    {
        var id = await CreateCustomerAsync($"Заметка {Tag()}");
        var operatorClient = Dashboard(TestKeys.Operator);
        var card = await HtmlAsync(await operatorClient.GetAsync($"/hangfire/customers/{id}"), HttpStatusCode.OK);
        var token = WebUtility.HtmlDecode(Regex.Match(card, """<input type="hidden" name="__RequestVerificationToken" value="([^"]+)">""").Groups[1].Value);
        Assert.NotEqual("", token);

        var posted = await operatorClient.PostAsync($"/hangfire/customers/{id}/notes", new FormUrlEncodedContent(
            [new("note", "Просил <b>не</b> звонить"), new("__RequestVerificationToken", token)]));

        Assert.Equal(HttpStatusCode.SeeOther, posted.StatusCode);
        Assert.Equal($"/hangfire/customers/{id}#customer-notes", posted.Headers.Location?.ToString());
        await using var db = factory.CreateDbContext();
        var note = await db.CustomerNotes.SingleAsync(n => n.CustomerId == id);
        Assert.Equal("Просил <b>не</b> звонить", note.Note);
        Assert.Equal(TestKeys.Operator.Name, note.CreatedBy);
        var api = await (await _api.GetAsync($"/api/customers/{id}/notes")).ReadJsonAsync();
        Assert.Equal(TestKeys.Operator.Name, (string)api[0]!["createdBy"]!);
        var after = await HtmlAsync(await operatorClient.GetAsync($"/hangfire/customers/{id}"), HttpStatusCode.OK);
        Assert.Contains("Просил &lt;b&gt;не&lt;/b&gt; звонить", after);
    }

    [Fact]
    public async Task ABadNoteShowsTheValidatorsMessageAndAddsNothing()
    {
        var id = await CreateCustomerAsync($"Пусто {Tag()}");
        var operatorClient = Dashboard(TestKeys.Operator);
        var token = TokenIn(await HtmlAsync(await operatorClient.GetAsync($"/hangfire/customers/{id}"), HttpStatusCode.OK));

        var posted = await operatorClient.PostAsync($"/hangfire/customers/{id}/notes", new FormUrlEncodedContent(
            [new("note", ""), new("__RequestVerificationToken", token)]));

        var html = await HtmlAsync(posted, HttpStatusCode.BadRequest);
        Assert.Matches("id=\"note-errors\"><ul><li>&#39;Note&#39; must not be empty.</li>", html);
        await using var db = factory.CreateDbContext();
        Assert.False(await db.CustomerNotes.AnyAsync(n => n.CustomerId == id));
    }

    [Fact]
    public async Task AReadersNotePostIsForbiddenEvenWithAToken()
    {
        var id = await CreateCustomerAsync($"Читатель {Tag()}");
        var reader = Dashboard(TestKeys.Reader);
        var token = TokenIn(await HtmlAsync(await reader.GetAsync($"/hangfire/customers/{id}"), HttpStatusCode.OK));
        Assert.NotEqual("", token);

        var posted = await reader.PostAsync($"/hangfire/customers/{id}/notes", new FormUrlEncodedContent(
            [new("note", "Не мой"), new("__RequestVerificationToken", token)]));

        Assert.Equal(HttpStatusCode.Forbidden, posted.StatusCode);
        await using var db = factory.CreateDbContext();
        Assert.False(await db.CustomerNotes.AnyAsync(n => n.CustomerId == id));
    }

    [Fact]
    public async Task ANotePostWithoutTheAntiforgeryTokenIsRefused()
    {
        var id = await CreateCustomerAsync($"Подлог {Tag()}");
        var operatorClient = Dashboard(TestKeys.Operator);
        // The cookie half of the pair is there; the form half is not (a cross-site form).
        await HtmlAsync(await operatorClient.GetAsync($"/hangfire/customers/{id}"), HttpStatusCode.OK);

        var posted = await operatorClient.PostAsync($"/hangfire/customers/{id}/notes", new FormUrlEncodedContent([new("note", "Чужая")]));

        Assert.Equal(HttpStatusCode.Forbidden, posted.StatusCode);
        await using var db = factory.CreateDbContext();
        Assert.False(await db.CustomerNotes.AnyAsync(n => n.CustomerId == id));
    }

    [Fact]
    public async Task MarkupInANameIsShownAsText()
    {
        var tag = Tag();
        var id = await CreateCustomerAsync($"<b>Жирный</b> <script>alert(1)</script> {tag}");

        var list = await HtmlAsync(await Dashboard(TestKeys.Reader).GetAsync($"/hangfire/customers?search={tag}"), HttpStatusCode.OK);
        var card = await HtmlAsync(await Dashboard(TestKeys.Reader).GetAsync($"/hangfire/customers/{id}"), HttpStatusCode.OK);

        foreach (var html in new[] { list, card })
        {
            Assert.Contains($"&lt;b&gt;Жирный&lt;/b&gt; &lt;script&gt;alert(1)&lt;/script&gt; {tag}", html);
            Assert.DoesNotContain("<b>Жирный", html);
            Assert.DoesNotContain("<script>alert", html);
        }
    }

    // The page's CSV link: the whole segment in the page's order, byte for byte what
    // GET /api/customers answers with Accept: text/csv; behind the dashboard's sign-in.
    [Fact]
    public async Task TheCsvLinkServesTheApisCsvOfTheFilterToAReader()
    {
        var tag = Tag();
        await CreateCustomerAsync($"Яна {tag}", "Казань");
        await CreateCustomerAsync($"Юлия {tag}", "Казань");
        await CreateCustomerAsync($"Элла {tag}", "Пермь");
        var filter = $"?search={Uri.EscapeDataString(tag)}&city=%D0%9A%D0%B0%D0%B7%D0%B0%D0%BD%D1%8C&ordering=name";
        var page = await HtmlAsync(await Dashboard(TestKeys.Reader).GetAsync($"/hangfire/customers{filter}"), HttpStatusCode.OK);
        var link = WebUtility.HtmlDecode(Regex.Match(page, """id="customers-csv" href="([^"]+)" """.Trim()).Groups[1].Value);
        Assert.Equal($"/hangfire/customers/csv{filter}", link);

        var csv = await Dashboard(TestKeys.Reader).GetAsync(link);
        var apiRequest = new HttpRequestMessage(HttpMethod.Get, $"/api/customers{filter}");
        apiRequest.Headers.Accept.ParseAdd("text/csv");
        var api = await _api.SendAsync(apiRequest);

        Assert.Equal(HttpStatusCode.OK, csv.StatusCode);
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", csv.Content.Headers.ContentDisposition?.DispositionType);
        var bytes = await csv.Content.ReadAsByteArrayAsync();
        Assert.Equal(await api.Content.ReadAsByteArrayAsync(), bytes);
        var rows = Encoding.UTF8.GetString(bytes).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, rows.Length);
        Assert.Contains($"Юлия {tag}", rows[1]);
        Assert.Contains($"Яна {tag}", rows[2]);

        var signedOut = factory.CreateClient(key: null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await signedOut.GetAsync(link)).StatusCode);
        var bad = await Dashboard(TestKeys.Reader).GetAsync("/hangfire/customers/csv?maxOrders=-2");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
        var problem = await bad.ReadJsonAsync();
        Assert.Equal("maxOrders must not be negative.", (string)problem["errors"]!["maxOrders"]![0]!);
    }
}
