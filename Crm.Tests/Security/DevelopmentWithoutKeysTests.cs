using System.Net.Http.Json;
using Crm.Api.Auth;
using Crm.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Crm.Tests.Security;

// Development without API keys: authentication is off and every caller is the development caller.
public class DevelopmentWithoutKeysTests(DevelopmentWithoutKeysTests.Factory factory) : IClassFixture<DevelopmentWithoutKeysTests.Factory>
{
    public sealed class Factory : CrmApiFactory
    {
        protected override string EnvironmentName => "Development";

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            // The keys the base configures pass the start checks; the store the app uses has none.
            builder.ConfigureTestServices(services =>
            {
                services.RemoveAll<ApiKeyStore>();
                services.AddSingleton(new ApiKeyStore(new AuthOptions()));
            });
        }
    }

    private readonly HttpClient _client = factory.CreateClient(key: null);

    [Fact]
    public async Task ANotesAuthorAndTheLedgersSourceNameTheSameDevelopmentCaller()
    {
        var phone = "+7999" + Random.Shared.Next(1_000_000, 9_999_999);
        var customer = await (await _client.PostAsJsonAsync("/api/customers", new { name = "Разработка", phone })).ReadJsonAsync();
        var id = (long)customer["id"]!;
        var note = await (await _client.PostAsJsonAsync($"/api/customers/{id}/notes", new { note = "Позвонить" })).ReadJsonAsync();
        (await _client.PatchAsJsonAsync($"/api/customers/{id}", new { city = "Казань" })).EnsureSuccessStatusCode();

        var timeline = await (await _client.GetAsync($"/api/customers/{id}/timeline")).ReadJsonAsync();
        var city = timeline["items"]!.AsArray().First(i => (string?)i!["field"] == "city")!;
        Assert.Equal("development", (string)note["createdBy"]!);
        Assert.Equal("api:development", (string)city["source"]!);
        Assert.Equal(Caller.Development.Name, Caller.NameOf(new System.Security.Claims.ClaimsPrincipal()));
    }

    [Fact]
    public async Task TheOpenApiDocumentAsksForNoKey()
    {
        var document = await (await _client.GetAsync("/openapi/v1.json")).ReadJsonAsync();

        Assert.Null(document["components"]?["securitySchemes"]?["ApiKey"]);
        Assert.Null(document["security"]);
        Assert.Null(document["paths"]!["/api/customers"]!["get"]!["responses"]!["401"]);
        // Scalar's page offers no key either.
        Assert.DoesNotContain("ApiKey", await (await _client.GetAsync("/scalar")).Content.ReadAsStringAsync());
    }
}
