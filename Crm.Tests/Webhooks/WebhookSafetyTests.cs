using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Crm.Jobs.Webhooks;
using Crm.Tests.Infrastructure;

namespace Crm.Tests.Webhooks;

// Outside Development: https only, and no receiver inside the host's networks, whether the
// URL says so when it is registered or its host resolves there later.
public class WebhookSafetyTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Theory]
    [InlineData("http://203.0.113.10/hook", "Url must use https.")]
    [InlineData("https://user:pass@203.0.113.10/hook", "Url must not carry credentials.")]
    [InlineData("ftp://203.0.113.10/hook", "Url must be an absolute http or https URL.")]
    [InlineData("https://127.0.0.1/hook", "127.0.0.1 resolves to 127.0.0.1, a loopback, private, link-local, metadata or reserved address; such an address is never allowed.")]
    [InlineData("https://localhost:8443/hook", "localhost resolves to")]
    [InlineData("https://10.1.2.3/hook", "resolves to 10.1.2.3")]
    [InlineData("https://192.168.0.10/hook", "resolves to 192.168.0.10")]
    [InlineData("https://169.254.169.254/latest/meta-data/", "resolves to 169.254.169.254")]
    [InlineData("https://[::1]/hook", "resolves to ::1")]
    [InlineData("https://[fd00:ec2::254]/hook", "resolves to fd00:ec2::254")]
    [InlineData("https://[::ffff:127.0.0.1]/hook", "resolves to ::ffff:127.0.0.1")]
    [InlineData("https://192.0.2.1/hook", "192.0.2.1 resolves to 192.0.2.1, a loopback, private, link-local, metadata or reserved address; a receiver inside the shop's own network needs its network in Crm:Webhooks:AllowedNetworks.")]
    public async Task ARefusedUrlIsA400NamingUrl(string url, string message)
    {
        var response = await _client.PostAsJsonAsync("/api/webhooks", new { url, events = new[] { "*" } });
        var problem = await response.AssertValidationErrorAsync("url");
        Assert.Contains(message, problem["errors"]!["url"]![0]!.ToString());
        await using var db = factory.CreateDbContext();
        Assert.Empty(db.Webhooks.Where(w => w.Url == url));
    }

    // Registered when the host resolved elsewhere (here: written straight into the table, as a
    // DNS change after registration would leave it): the connection is refused, nothing is sent.
    [Theory]
    [InlineData("127.0.0.1", "such an address is never allowed.")]
    [InlineData("localhost", "such an address is never allowed.")]
    [InlineData("[::127.0.0.1]", "such an address is never allowed.")]
    [InlineData("[::ffff:127.0.0.1]", "such an address is never allowed.")]
    [InlineData("[64:ff9b::7f00:1]", "such an address is never allowed.")]
    [InlineData("[2002:7f00:1::1]", "such an address is never allowed.")]
    [InlineData("[::ffff:0:127.0.0.1]", "needs its network in Crm:Webhooks:AllowedNetworks.")]
    [InlineData("[64:ff9b:1::7f00:1]", "needs its network in Crm:Webhooks:AllowedNetworks.")]
    [InlineData("[2001::7f00:1]", "needs its network in Crm:Webhooks:AllowedNetworks.")]
    [InlineData("192.0.2.1", "needs its network in Crm:Webhooks:AllowedNetworks.")]
    [InlineData("198.18.0.1", "needs its network in Crm:Webhooks:AllowedNetworks.")]
    public async Task AnAddressIsCheckedAgainWhenConnecting(string host, string refusal)
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var port = new Uri(receiver.Url).Port;
        await using var db = factory.CreateDbContext();
        var hook = new Webhook
        {
            Url = $"https://{host}:{port}/hook", Events = ["*"], Secret = "whsec_" + Convert.ToBase64String(new byte[24]),
            CreatedAt = DateTime.UtcNow, UpdatedAt = DateTime.UtcNow,
        };
        db.Webhooks.Add(hook);
        await db.SaveChangesAsync();

        Assert.Equal(HttpStatusCode.Accepted, (await _client.PostAsync($"/api/webhooks/{hook.Id}/test", null)).StatusCode);
        var deliveries = await Waiting.UntilAsync(() => _client.DeliveriesAsync(hook.Id), d => d.Count > 0, "the refused attempt");
        Assert.Equal("failed", (string?)deliveries[0]!["state"]);
        Assert.Null((int?)deliveries[0]!["responseStatus"]);
        Assert.Contains($"{host} resolves to", (string?)deliveries[0]!["error"]);
        Assert.EndsWith(refusal, (string?)deliveries[0]!["error"]);
        Assert.Empty(receiver.Received);
        await _client.DeleteAsync($"/api/webhooks/{hook.Id}");
    }

    // IP literals are judged when a subscription is created, without a lookup: a public
    // address is registered, any other is a 400 naming url.
    [Theory]
    [MemberData(nameof(Addresses))]
    public async Task ALiteralAddressIsJudgedWhenSubscribing(string address, bool isPublic)
    {
        var host = IPAddress.Parse(address).AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address;
        var url = $"https://{host}/hook";
        var response = await _client.PostAsJsonAsync("/api/webhooks", new { url, events = new[] { "*" } });
        if (isPublic)
        {
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            // Deleted before anything could be sent to it.
            await _client.DeleteAsync($"/api/webhooks/{(long)(await response.ReadJsonAsync())["id"]!}");
            return;
        }
        var problem = await response.AssertValidationErrorAsync("url");
        Assert.Contains(" resolves to ", problem["errors"]!["url"]![0]!.ToString());
    }

    [Theory]
    [MemberData(nameof(Addresses))]
    public void PublicAddresses(string address, bool isPublic) =>
        Assert.Equal(isPublic, WebhookAddresses.IsPublic(IPAddress.Parse(address)));

    public static TheoryData<string, bool> Addresses => new()
    {
        { "8.8.8.8", true },
        { "1.1.1.1", true },
        { "172.32.0.1", true },
        { "100.63.255.255", true },
        { "100.128.0.1", true },
        { "192.0.3.1", true },
        { "198.20.0.1", true },
        { "223.255.255.254", true },
        { "2a00:1450:4001:80b::200e", true },
        { "2001:4860:4860::8888", true },
        { "2606:4700:4700::1111", true },
        { "::ffff:8.8.8.8", true },
        { "::8.8.8.8", false }, // IPv4-compatible: deprecated, never public
        { "64:ff9b::808:808", true },
        { "2002:808:808::1", true },
        // IPv4's special ranges.
        { "0.0.0.0", false },
        { "0.1.2.3", false },
        { "10.0.0.1", false },
        { "100.64.0.1", false },
        { "100.100.100.200", false },
        { "127.0.0.1", false },
        { "127.8.8.8", false },
        { "169.254.169.254", false },
        { "172.16.0.1", false },
        { "172.31.255.255", false },
        { "192.0.0.8", false },
        { "192.0.2.1", false },
        { "192.88.99.1", false },
        { "192.168.1.1", false },
        { "198.18.0.1", false },
        { "198.19.255.255", false },
        { "198.51.100.7", false },
        { "203.0.113.10", false },
        { "224.0.0.1", false },
        { "239.255.255.250", false },
        { "240.0.0.1", false },
        { "255.255.255.255", false },
        // IPv6 outside global unicast.
        { "::", false },
        { "::1", false },
        { "::127.0.0.1", false },
        { "::10.0.0.1", false },
        { "::ffff:127.0.0.1", false },
        { "::ffff:10.0.0.1", false },
        { "::ffff:169.254.169.254", false },
        { "::ffff:0:7f00:1", false },
        { "::ffff:0:808:808", false },
        { "64:ff9b::a00:1", false },
        { "64:ff9b::7f00:1", false },
        { "64:ff9b:1::808:808", false },
        { "100::1", false },
        { "fc00::1", false },
        { "fd00:ec2::254", false },
        { "fe80::1", false },
        { "fec0::1", false },
        { "ff02::1", false },
        { "ff0e::1", false },
        // Global unicast's special ranges, and IPv4 inside 6to4.
        { "2001::1", false },
        { "2001:0:4136:e378:8000:63bf:3fff:fdd2", false },
        { "2001:2::1", false },
        { "2001:db8::1", false },
        { "3fff::1", false },
        { "2002:a9fe:a9fe::1", false },
        { "2002:7f00:1::1", false },
        { "2002:c000:201::1", false },
    };
}
