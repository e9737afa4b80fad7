using System.Net;
using System.Net.Http.Json;
using Crm.Api.Infrastructure;
using Crm.Api.Privacy;
using Crm.Tests.Infrastructure;

namespace Crm.Tests.Privacy;

// The privacy routes' contract: admin only, clear errors, and an erase of a phone nobody
// holds (or already erased) that still answers with a receipt.
public class PrivacyApiTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    public static TheoryData<string, string> Routes => new()
    {
        { "POST", "/api/customers/1/erase" },
        { "GET", "/api/customers/1/export" },
        { "POST", "/api/privacy/erasures" },
        { "GET", "/api/privacy/erasures" },
        { "GET", "/api/privacy/erasures/1" },
        { "GET", "/api/privacy/export?phone=%2B79990000000" },
    };

    private static HttpRequestMessage Request(string method, string path) =>
        new(new HttpMethod(method), path) { Content = method == "POST" ? JsonContent.Create(new { phone = "+79990000000" }) : null };

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task OnlyAdminsMayUseThem(string method, string path)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await factory.CreateClient(null).SendAsync(Request(method, path))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await factory.CreateClient(TestKeys.Reader).SendAsync(Request(method, path))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await factory.CreateClient(TestKeys.Operator).SendAsync(Request(method, path))).StatusCode);
    }

    [Theory]
    [InlineData("POST", "/api/customers/987654321/erase")]
    [InlineData("GET", "/api/customers/987654321/export")]
    [InlineData("GET", "/api/privacy/erasures/987654321")]
    public async Task AnUnknownIdIsNotFound(string method, string path) =>
        Assert.Equal(HttpStatusCode.NotFound, (await _client.SendAsync(Request(method, path))).StatusCode);

    [Theory]
    [InlineData("not a phone")]
    [InlineData("")]
    [InlineData("+7 999")]
    public async Task AnUnparseablePhoneIsABadRequestNamingPhone(string phone)
    {
        var before = await ErasureCountAsync();
        var erase = await _client.PostAsJsonAsync("/api/privacy/erasures", new { phone });
        Assert.Contains("phone", (await erase.AssertProblemAsync(HttpStatusCode.BadRequest))["errors"]!.AsObject().Select(e => e.Key),
            StringComparer.OrdinalIgnoreCase);
        var export = await _client.GetAsync($"/api/privacy/export?phone={Uri.EscapeDataString(phone)}");
        Assert.Contains("phone", (await export.AssertProblemAsync(HttpStatusCode.BadRequest))["errors"]!.AsObject().Select(e => e.Key),
            StringComparer.OrdinalIgnoreCase);
        Assert.Equal(before, await ErasureCountAsync());
    }

    [Fact]
    public async Task ErasingAPhoneNobodyHoldsTwiceAnswersReceiptsOfZero()
    {
        var (raw, e164) = TestPhones.NewSpelledWith8();
        foreach (var spelling in new[] { raw, e164 })
        {
            var response = await _client.PostAsJsonAsync("/api/privacy/erasures", new { phone = spelling });
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            var accepted = await response.ReadJsonAsync<ErasureAccepted>();
            await _client.JobAsync(accepted.JobId);
            var receipt = await (await _client.GetAsync($"/api/privacy/erasures/{accepted.ErasureId}")).ReadJsonAsync<ErasureReceipt>();
            Assert.Null(receipt.CustomerId);
            Assert.All(receipt.Counts!, c => Assert.Equal(0, c.Value));
        }

        // Listed newest first, without the phone in any spelling.
        var list = await _client.GetAsync("/api/privacy/erasures?pageSize=200");
        var text = await list.Content.ReadAsStringAsync();
        Assert.DoesNotContain(e164, text);
        Assert.DoesNotContain(e164[2..], text);
        var page = await list.ReadJsonAsync<PagedResponse<ErasureReceipt>>();
        Assert.True(page.Items.Count >= 2);
        Assert.True(page.Items[0].RequestedAt >= page.Items[1].RequestedAt);

        // The export by phone says when it was erased, and that nothing is held.
        var export = await (await _client.GetAsync($"/api/privacy/export?phone={Uri.EscapeDataString(raw)}")).ReadJsonAsync();
        Assert.Equal(e164, (string?)export["phone"]);
        Assert.NotNull((string?)export["erasedAt"]);
        Assert.All(export["stores"]!.AsObject(), s => Assert.Empty(s.Value!.AsArray()));
    }

    private async Task<long> ErasureCountAsync()
    {
        await using var db = factory.CreateDbContext();
        return db.Erasures.LongCount();
    }
}
