using System.Net;
using System.Net.Http.Json;
using Crm.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;

namespace Crm.Tests.Webhooks;

// With Crm:Webhooks:AllowPrivateNetworks a receiver inside the network may be registered.
public class WebhookPrivateNetworkTests(WebhookPrivateNetworkTests.Factory factory) : IClassFixture<WebhookPrivateNetworkTests.Factory>
{
    public sealed class Factory : CrmApiFactory
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Crm:Webhooks:AllowPrivateNetworks", "true");
        }
    }

    [Fact]
    public async Task APrivateReceiverIsAllowedButStillOnlyOverHttps()
    {
        var client = factory.CreateClient();
        var created = await client.PostAsJsonAsync("/api/webhooks", new { url = "https://10.1.2.3/hook", events = new[] { "*" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var http = await client.PostAsJsonAsync("/api/webhooks", new { url = "http://10.1.2.3/hook", events = new[] { "*" } });
        await http.AssertValidationErrorAsync("url");
    }
}
