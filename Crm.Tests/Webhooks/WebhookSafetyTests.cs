using System.Net;
using System.Net.Http.Json;
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
    [InlineData("https://127.0.0.1/hook", "127.0.0.1 resolves to 127.0.0.1, a loopback, private, link-local or metadata address")]
    [InlineData("https://localhost:8443/hook", "localhost resolves to")]
    [InlineData("https://10.1.2.3/hook", "resolves to 10.1.2.3")]
    [InlineData("https://192.168.0.10/hook", "resolves to 192.168.0.10")]
    [InlineData("https://169.254.169.254/latest/meta-data/", "resolves to 169.254.169.254")]
    [InlineData("https://[::1]/hook", "resolves to ::1")]
    [InlineData("https://[fd00:ec2::254]/hook", "resolves to fd00:ec2::254")]
    [InlineData("https://[::ffff:127.0.0.1]/hook", "resolves to ::ffff:127.0.0.1")]
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
    [InlineData("127.0.0.1")]
    [InlineData("localhost")]
    public async Task AnAddressIsCheckedAgainWhenConnecting(string host)
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
        Assert.Contains("Crm:Webhooks:AllowPrivateNetworks", (string?)deliveries[0]!["error"]);
        Assert.Empty(receiver.Received);
        await _client.DeleteAsync($"/api/webhooks/{hook.Id}");
    }

    [Theory]
    [InlineData("8.8.8.8", true)]
    [InlineData("203.0.113.10", true)]
    [InlineData("2a00:1450:4001:80b::200e", true)]
    [InlineData("0.0.0.0", false)]
    [InlineData("10.0.0.1", false)]
    [InlineData("100.100.100.200", false)]
    [InlineData("127.8.8.8", false)]
    [InlineData("169.254.169.254", false)]
    [InlineData("172.16.0.1", false)]
    [InlineData("172.31.255.255", false)]
    [InlineData("172.32.0.1", true)]
    [InlineData("192.168.1.1", false)]
    [InlineData("224.0.0.1", false)]
    [InlineData("255.255.255.255", false)]
    [InlineData("::", false)]
    [InlineData("::1", false)]
    [InlineData("fe80::1", false)]
    [InlineData("fc00::1", false)]
    [InlineData("::ffff:10.0.0.1", false)]
    [InlineData("::ffff:8.8.8.8", true)]
    [InlineData("64:ff9b::a00:1", false)]
    [InlineData("64:ff9b::808:808", true)]
    [InlineData("2002:a9fe:a9fe::1", false)]
    [InlineData("2002:808:808::1", true)]
    public void PublicAddresses(string address, bool isPublic) =>
        Assert.Equal(isPublic, WebhookUrlPolicy.IsPublic(IPAddress.Parse(address)));
}
