using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Crm.Jobs.Webhooks;

// Where the service may send webhooks. Outside Development: https only, and never to an
// address inside the host's networks (loopback, private, link-local, the cloud metadata
// service) unless Crm:Webhooks:AllowPrivateNetworks. The address rule is applied when a URL
// is registered and again on every connection (WebhookSender), since DNS can change between.
public sealed class WebhookUrlPolicy(IHostEnvironment environment, IOptions<WebhookOptions> options)
{
    private bool Development => environment.IsDevelopment();

    public bool ChecksAddresses => !Development && !options.Value.AllowPrivateNetworks;

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
        // Every address must be public: a host that answers with one public and one private
        // address could otherwise steer a retry inside.
        var refused = addresses.FirstOrDefault(a => !IsPublic(a));
        if (refused is not null)
            throw new WebhookRefusedException(Refusal(host, refused));
        return addresses;
    }

    private static async Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct) =>
        IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);

    private static string Refusal(string host, IPAddress address) =>
        $"{host} resolves to {address}, a loopback, private, link-local or metadata address; " +
        "such receivers need Crm:Webhooks:AllowPrivateNetworks.";

    // An address on the public internet: not loopback, private (RFC 1918, unique-local),
    // link-local (169.254.0.0/16 holds the metadata service), carrier-grade NAT, unspecified,
    // multicast or reserved.
    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
            address = address.MapToIPv4();
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.None))
            return false;
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var v6 = address.GetAddressBytes();
            // IPv4 inside IPv6: NAT64 (64:ff9b::/96) and 6to4 (2002::/16) reach the embedded address.
            if (v6[0] == 0x00 && v6[1] == 0x64 && v6[2] == 0xff && v6[3] == 0x9b && v6[4..12].All(b => b == 0))
                return IsPublic(new IPAddress(v6[12..16]));
            if (v6[0] == 0x20 && v6[1] == 0x02)
                return IsPublic(new IPAddress(v6[2..6]));
            return !(address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast
                     || (v6[0] & 0xfe) == 0xfc          // fc00::/7 unique local (AWS metadata: fd00:ec2::254)
                     || (v6[0] == 0x20 && v6[1] == 0x01 && v6[2] == 0x0d && v6[3] == 0xb8)); // 2001:db8::/32 documentation
        }
        var b = address.GetAddressBytes();
        return !(b[0] == 0                                  // 0.0.0.0/8 "this network"
                 || b[0] == 10                              // 10.0.0.0/8
                 || (b[0] == 100 && (b[1] & 0xc0) == 64)    // 100.64.0.0/10 carrier-grade NAT (Alibaba metadata 100.100.100.200)
                 || b[0] == 127                             // loopback
                 || (b[0] == 169 && b[1] == 254)            // link-local, metadata 169.254.169.254
                 || (b[0] == 172 && (b[1] & 0xf0) == 16)    // 172.16.0.0/12
                 || (b[0] == 192 && b[1] == 0 && b[2] == 0) // 192.0.0.0/24 protocol assignments
                 || (b[0] == 192 && b[1] == 168)            // 192.168.0.0/16
                 || (b[0] == 198 && (b[1] & 0xfe) == 18)    // 198.18.0.0/15 benchmarking
                 || b[0] >= 224);                           // multicast, reserved, broadcast
    }
}
