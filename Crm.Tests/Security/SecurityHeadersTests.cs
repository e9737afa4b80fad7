using System.Net;
using System.Net.Http.Json;
using Crm.Tests.Infrastructure;
using Crm.Tests.Webhooks;

namespace Crm.Tests.Security;

// No page of the service can be framed by another site (clickjacking of the dashboard's
// commands), no answer is sniffed into another type, and a webhook's secret is never cached.
public class SecurityHeadersTests(WebhookCrmApiFactory factory) : IClassFixture<WebhookCrmApiFactory>
{
    public static TheoryData<string, string?> Pages => new()
    {
        { "/scalar", null },
        { "/openapi/v1.json", null },
        { "/hangfire", null },
        { "/hangfire/syncs", null },
        { "/hangfire/customers", null },
        { "/api/customers", null },
        { "/api/customers", "no key" },
        { "/api/customers/abc", null },
        { "/health/live", null },
        { "/metrics", null },
    };

    [Theory]
    [MemberData(nameof(Pages))]
    public async Task EveryAnswerRefusesFramingAndSniffing(string path, string? noKey)
    {
        var client = noKey is null ? factory.CreateClient() : factory.CreateClient(key: null);
        var response = await client.GetAsync(path);
        Assert.Equal(["DENY"], response.Headers.GetValues("X-Frame-Options"));
        Assert.Equal(["frame-ancestors 'none'"], response.Headers.GetValues("Content-Security-Policy"));
        Assert.Equal(["nosniff"], response.Headers.GetValues("X-Content-Type-Options"));
    }

    [Fact]
    public async Task AnswersWithAWebhookSecretAreNeverStored()
    {
        var client = factory.CreateClient();
        var created = await client.PostAsJsonAsync("/api/webhooks", new { url = "http://127.0.0.1:9/hook", events = new[] { "*" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.True(created.Headers.CacheControl?.NoStore, created.Headers.ToString());
        var id = (long)(await created.ReadJsonAsync())["id"]!;

        var rotated = await client.PostAsync($"/api/webhooks/{id}/rotate-secret", null);
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        Assert.True(rotated.Headers.CacheControl?.NoStore, rotated.Headers.ToString());

        // A list that shows no secret may be cached as usual.
        Assert.NotEqual(true, (await client.GetAsync("/api/webhooks")).Headers.CacheControl?.NoStore);
        await client.DeleteAsync($"/api/webhooks/{id}");
    }
}
