using System.Net;
using System.Net.Http.Json;
using Crm.Jobs.Webhooks;
using Crm.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;

namespace Crm.Tests.Webhooks;

// Crm:Webhooks:AllowedNetworks lets receivers inside the shop's own networks be registered,
// and never loopback, link-local (the metadata service) or the unspecified addresses, not
// even inside an entry.
public class WebhookAllowedNetworksTests(WebhookAllowedNetworksTests.Factory factory) : IClassFixture<WebhookAllowedNetworksTests.Factory>
{
    public sealed class Factory : CrmApiFactory
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Crm:Webhooks:AllowedNetworks:0", "10.0.0.0/8");
            builder.UseSetting("Crm:Webhooks:AllowedNetworks:1", "fd00::/8");
            // NAT64 holds every IPv4 address: 64:ff9b::7f00:1 is 127.0.0.1.
            builder.UseSetting("Crm:Webhooks:AllowedNetworks:2", "64:ff9b::/96");
        }
    }

    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task AReceiverInAnAllowedNetworkIsAllowedButStillOnlyOverHttps()
    {
        var created = await _client.PostAsJsonAsync("/api/webhooks", new { url = "https://10.1.2.3/hook", events = new[] { "*" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        await _client.DeleteAsync($"/api/webhooks/{(long)(await created.ReadJsonAsync())["id"]!}");
        var http = await _client.PostAsJsonAsync("/api/webhooks", new { url = "http://10.1.2.3/hook", events = new[] { "*" } });
        await http.AssertValidationErrorAsync("url");
    }

    [Theory]
    [InlineData("https://10.255.0.1/hook")]
    [InlineData("https://[fd00:ec2::254]/hook")]
    [InlineData("https://[::ffff:10.1.2.3]/hook")]
    [InlineData("https://[64:ff9b::a01:203]/hook")]
    public async Task AnAddressInsideAnEntryIsAllowed(string url)
    {
        var created = await _client.PostAsJsonAsync("/api/webhooks", new { url, events = new[] { "*" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        await _client.DeleteAsync($"/api/webhooks/{(long)(await created.ReadJsonAsync())["id"]!}");
    }

    [Theory]
    [InlineData("https://192.168.0.10/hook", "needs its network in Crm:Webhooks:AllowedNetworks.")]
    [InlineData("https://172.16.0.1/hook", "needs its network in Crm:Webhooks:AllowedNetworks.")]
    [InlineData("https://[fc00::1]/hook", "needs its network in Crm:Webhooks:AllowedNetworks.")]
    [InlineData("https://127.0.0.1/hook", "such an address is never allowed.")]
    [InlineData("https://169.254.169.254/latest/meta-data", "such an address is never allowed.")]
    [InlineData("https://0.0.0.0/hook", "such an address is never allowed.")]
    [InlineData("https://[::]/hook", "such an address is never allowed.")]
    [InlineData("https://[fe80::1]/hook", "such an address is never allowed.")]
    [InlineData("https://[::ffff:127.0.0.1]/hook", "such an address is never allowed.")]
    [InlineData("https://[64:ff9b::7f00:1]/hook", "such an address is never allowed.")]
    [InlineData("https://[64:ff9b::a9fe:a9fe]/hook", "such an address is never allowed.")]
    public async Task AnAddressOutsideTheEntriesOrNeverAllowedIsRefused(string url, string refusal)
    {
        var response = await _client.PostAsJsonAsync("/api/webhooks", new { url, events = new[] { "*" } });
        var problem = await response.AssertValidationErrorAsync("url");
        Assert.EndsWith(refusal, problem["errors"]!["url"]![0]!.ToString());
    }

    // Whatever the entries, these stay refused.
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("169.254.169.254")]
    [InlineData("0.0.0.0")]
    [InlineData("::")]
    [InlineData("::1")]
    [InlineData("fe80::1")]
    [InlineData("::ffff:169.254.169.254")]
    [InlineData("64:ff9b::7f00:1")]
    [InlineData("2002:7f00:1::1")]
    public void NoEntryAdmitsLoopbackLinkLocalOrUnspecified(string address) =>
        Assert.False(WebhookAddresses.IsAllowed(IPAddress.Parse(address),
            [IPNetwork.Parse("0.0.0.0/0"), IPNetwork.Parse("::/0")]));

    // An entry is a network in CIDR notation that covers none of them; anything else fails the start.
    [Theory]
    [InlineData("10.0.0.0/8", null)]
    [InlineData("192.168.10.0/24", null)]
    [InlineData("fd00::/8", null)]
    [InlineData("64:ff9b::/96", null)]
    [InlineData("0.0.0.0/0", "covers 0.0.0.0/8")]
    [InlineData("127.0.0.0/8", "covers 127.0.0.0/8")]
    [InlineData("127.0.0.1/32", "covers 127.0.0.0/8")]
    [InlineData("169.254.169.254/32", "covers 169.254.0.0/16")]
    [InlineData("::/0", "covers ::/128")]
    [InlineData("::1/128", "covers ::1/128")]
    [InlineData("fe80::/64", "covers fe80::/10")]
    [InlineData("10.0.0.0/33", "is not a network in CIDR notation")]
    [InlineData("10.0.0.0", "is not a network in CIDR notation")]
    [InlineData("intranet", "is not a network in CIDR notation")]
    public void AnEntryIsACidrNetworkThatCoversNoneOfThem(string entry, string? problem)
    {
        var found = WebhookAddresses.NetworkProblem(entry);
        if (problem is null)
            Assert.Null(found);
        else
            Assert.Contains(problem, found);
    }
}
