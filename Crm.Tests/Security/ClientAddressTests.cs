using System.Net;
using System.Text;
using Crm.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;

namespace Crm.Tests.Security;

// Who a caller is for the rate limiter: its key once authenticated (dashboard users
// included), else its address, taken from X-Forwarded-For only when a configured proxy sent it.
public class ClientAddressTests(ClientAddressTests.Factory factory) : IClassFixture<ClientAddressTests.Factory>
{
    public sealed class Factory : CrmApiFactory
    {
        protected override int PermitsPerMinute => 5;

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Crm:ForwardedHeaders:KnownProxies:0", "10.0.0.1");
            builder.UseSetting("Crm:ForwardedHeaders:KnownNetworks:0", "192.0.2.0/24");
        }
    }

    // A request as the server sees it from this peer address (the test server has none of its own).
    private async Task<HttpStatusCode> SendAsync(string peer, string path, string? forwardedFor = null, string? basic = null)
    {
        var http = await factory.Server.SendAsync(request =>
        {
            request.Request.Method = "GET";
            request.Request.Path = path;
            request.Connection.RemoteIpAddress = IPAddress.Parse(peer);
            if (forwardedFor is not null)
                request.Request.Headers["X-Forwarded-For"] = forwardedFor;
            if (basic is not null)
                request.Request.Headers.Authorization = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(basic));
        });
        return (HttpStatusCode)http.Response.StatusCode;
    }

    // Five anonymous requests (401 each) spend the budget of what the limiter takes as their address.
    private async Task ExhaustAsync(string peer, string? forwardedFor = null)
    {
        for (var i = 0; i < 5; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(peer, "/api/categories", forwardedFor));
        Assert.Equal(HttpStatusCode.TooManyRequests, await SendAsync(peer, "/api/categories", forwardedFor));
    }

    [Fact]
    public async Task ADashboardUserHasTheBudgetOfItsKeyNotOfItsAddress()
    {
        await ExhaustAsync("198.51.100.20");

        var dashboard = await SendAsync("198.51.100.20", "/hangfire", basic: $"{TestKeys.Admin.Name}:{TestKeys.Admin.Key}");

        Assert.Equal(HttpStatusCode.OK, dashboard);
    }

    [Fact]
    public async Task ForwardedForIsIgnoredFromAPeerThatIsNoConfiguredProxy()
    {
        await ExhaustAsync("203.0.113.9", forwardedFor: "198.51.100.1");
        Assert.Equal(HttpStatusCode.TooManyRequests, await SendAsync("203.0.113.9", "/api/categories", "198.51.100.2"));

        // Loopback is trusted by ASP.NET Core's defaults, not here.
        await ExhaustAsync("127.0.0.1", forwardedFor: "198.51.100.3");
        Assert.Equal(HttpStatusCode.TooManyRequests, await SendAsync("127.0.0.1", "/api/categories", "198.51.100.4"));
    }

    [Fact]
    public async Task ForwardedForIsTheAddressWhenAConfiguredProxySentIt()
    {
        await ExhaustAsync("10.0.0.1", forwardedFor: "198.51.100.5");
        // Another client behind the same proxy has its own budget ...
        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync("10.0.0.1", "/api/categories", "198.51.100.6"));
        // ... and the client keeps its own through any proxy of a configured network.
        Assert.Equal(HttpStatusCode.TooManyRequests, await SendAsync("192.0.2.50", "/api/categories", "198.51.100.5"));
        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync("192.0.2.50", "/api/categories", "198.51.100.7"));
    }
}
