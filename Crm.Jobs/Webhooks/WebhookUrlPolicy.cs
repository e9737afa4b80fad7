using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Crm.Jobs.Webhooks;

// Where the service may send webhooks. Outside Development: https only, and only to public
// addresses (WebhookAddresses) or inside Crm:Webhooks:AllowedNetworks, which never admits
// loopback, link-local (the cloud metadata service), 0.0.0.0/8 or ::. The address rule is
// applied when a URL is registered and again on every connection (WebhookSender), since DNS
// can change between. Development skips it: its receivers are plain http on loopback.
public sealed class WebhookUrlPolicy(IHostEnvironment environment, IOptions<WebhookOptions> options)
{
    private bool Development => environment.IsDevelopment();

    public bool ChecksAddresses => !Development;

    // Checked at start (WebhookOptionsValidation).
    private readonly IPNetwork[] _networks = [.. options.Value.AllowedNetworks.Select(IPNetwork.Parse)];

    // What is wrong with the URL itself, or null.
    public string? Check(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            return "Url must be an absolute http or https URL.";
        if (uri.Scheme != Uri.UriSchemeHttps && !Development)
            return "Url must use https.";
        if (!string.IsNullOrEmpty(uri.UserInfo))
            return "Url must not carry credentials.";
        if (!string.IsNullOrEmpty(uri.Fragment))
            return "Url must not have a fragment.";
        return null;
    }

    // At registration: what the host resolves to now, or null when every address may be used.
    public async Task<string?> CheckAddressesAsync(string url, CancellationToken ct)
    {
        if (!ChecksAddresses)
            return null;
        var host = new Uri(url).IdnHost;
        try
        {
            await AllowedAddressesAsync(host, ct);
            return null;
        }
        catch (SocketException e)
        {
            return $"Url's host {host} could not be resolved ({e.SocketErrorCode}).";
        }
        catch (WebhookRefusedException e)
        {
            return e.Message;
        }
    }

    // When connecting: the addresses the connection may use (none: it is refused).
    public async Task<IPAddress[]> AllowedAddressesAsync(string host, CancellationToken ct)
    {
        var addresses = await ResolveAsync(host, ct);
        if (!ChecksAddresses)
            return addresses;
        // Every address must be allowed: a host that answers with one public and one private
        // address could otherwise steer a retry inside.
        var refused = addresses.FirstOrDefault(a => !WebhookAddresses.IsAllowed(a, _networks));
        if (refused is not null)
            throw new WebhookRefusedException(Refusal(host, refused));
        return addresses;
    }

    private static async Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct) =>
        IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);

    private static string Refusal(string host, IPAddress address) =>
        $"{host} resolves to {address}, a loopback, private, link-local, metadata or reserved address; " +
        (WebhookAddresses.IsNeverAllowed(address)
            ? "such an address is never allowed."
            : "a receiver inside the shop's own network needs its network in Crm:Webhooks:AllowedNetworks.");
}
