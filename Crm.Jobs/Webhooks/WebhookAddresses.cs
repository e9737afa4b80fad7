using System.Net;
using System.Net.Sockets;

namespace Crm.Jobs.Webhooks;

// Which addresses a webhook may connect to (outside Development). IPv4: all but the
// special-purpose ranges. IPv6: only global unicast (2000::/3) minus its special ranges; an
// IPv6 address that carries an IPv4 address (and reaches it) is judged as that IPv4 address.
public static class WebhookAddresses
{
    private static readonly IPNetwork[] SpecialIPv4 =
    [
        IPNetwork.Parse("0.0.0.0/8"),       // "this network", 0.0.0.0
        IPNetwork.Parse("10.0.0.0/8"),      // private
        IPNetwork.Parse("100.64.0.0/10"),   // carrier-grade NAT (Alibaba's metadata service 100.100.100.200)
        IPNetwork.Parse("127.0.0.0/8"),     // loopback
        IPNetwork.Parse("169.254.0.0/16"),  // link-local, the cloud metadata service 169.254.169.254
        IPNetwork.Parse("172.16.0.0/12"),   // private
        IPNetwork.Parse("192.0.0.0/24"),    // protocol assignments
        IPNetwork.Parse("192.0.2.0/24"),    // TEST-NET-1 (documentation)
        IPNetwork.Parse("192.88.99.0/24"),  // 6to4 relay anycast (deprecated)
        IPNetwork.Parse("192.168.0.0/16"),  // private
        IPNetwork.Parse("198.18.0.0/15"),   // benchmarking
        IPNetwork.Parse("198.51.100.0/24"), // TEST-NET-2 (documentation)
        IPNetwork.Parse("203.0.113.0/24"),  // TEST-NET-3 (documentation)
        IPNetwork.Parse("224.0.0.0/3"),     // multicast 224/4, reserved 240/4, broadcast 255.255.255.255
    ];

    // Everything else (::/96, ::ffff:0:0:0/96, 64:ff9b:1::/48, 100::/64, fc00::/7, fe80::/10,
    // ff00::/8, ...) lies outside global unicast.
    private static readonly IPNetwork GlobalUnicast = IPNetwork.Parse("2000::/3");

    private static readonly IPNetwork[] SpecialIPv6 =
    [
        IPNetwork.Parse("2001::/23"),     // protocol assignments: Teredo 2001::/32, benchmarking, ORCHID
        IPNetwork.Parse("2001:db8::/32"), // documentation
        IPNetwork.Parse("3fff::/20"),     // documentation
    ];

    private static readonly IPNetwork Compatible = IPNetwork.Parse("::/96");
    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");
    private static readonly IPNetwork SixToFour = IPNetwork.Parse("2002::/16");

    // What Crm:Webhooks:AllowedNetworks never admits: the host itself, its link (with the
    // metadata service) and the unspecified addresses.
    public static readonly IPNetwork[] NeverAllowed =
    [
        IPNetwork.Parse("0.0.0.0/8"),
        IPNetwork.Parse("127.0.0.0/8"),
        IPNetwork.Parse("169.254.0.0/16"),
        IPNetwork.Parse("::/128"),
        IPNetwork.Parse("::1/128"),
        IPNetwork.Parse("fe80::/10"),
    ];

    public static bool IsPublic(IPAddress address)
    {
        // IPv4-compatible addresses (::/96) are deprecated and routed nowhere public: refused
        // whatever IPv4 address they carry (which still decides IsNeverAllowed).
        if (address.AddressFamily == AddressFamily.InterNetworkV6 && !address.IsIPv4MappedToIPv6 && Compatible.Contains(address))
            return false;
        if (EmbeddedIPv4(address) is { } v4)
            return IsPublic(v4);
        return address.AddressFamily switch
        {
            AddressFamily.InterNetwork => !SpecialIPv4.Any(n => n.Contains(address)),
            AddressFamily.InterNetworkV6 => GlobalUnicast.Contains(address) && !SpecialIPv6.Any(n => n.Contains(address)),
            _ => false,
        };
    }

    public static bool IsNeverAllowed(IPAddress address) => EmbeddedIPv4(address) is { } v4
        ? IsNeverAllowed(v4)
        : NeverAllowed.Any(n => n.Contains(address));

    // Public, or inside one of the given networks (never one of NeverAllowed). An address
    // carrying IPv4 is inside a network that holds it or its IPv4 address.
    public static bool IsAllowed(IPAddress address, IReadOnlyList<IPNetwork> networks) =>
        IsPublic(address)
        || (!IsNeverAllowed(address)
            && networks.Any(n => (!address.IsIPv4MappedToIPv6 && n.Contains(address))
                                 || (EmbeddedIPv4(address) is { } v4 && n.Contains(v4))));

    // The IPv4 address an IPv6 address carries and reaches: IPv4-mapped (::ffff:0:0/96),
    // IPv4-compatible (::/96, with :: and ::1), NAT64 (64:ff9b::/96), 6to4 (2002::/16).
    // IPNetwork.Contains treats a mapped address as its IPv4 address, even for an IPv6
    // network: it is recognised by its own flag.
    public static IPAddress? EmbeddedIPv4(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
            return address.MapToIPv4();
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
            return null;
        var bytes = address.GetAddressBytes();
        if (Compatible.Contains(address) || Nat64.Contains(address))
            return new IPAddress(bytes[12..16]);
        if (SixToFour.Contains(address))
            return new IPAddress(bytes[2..6]);
        return null;
    }

    // What is wrong with an entry of Crm:Webhooks:AllowedNetworks, or null.
    public static string? NetworkProblem(string entry)
    {
        if (!IPNetwork.TryParse(entry, out var network))
            return $"Crm:Webhooks:AllowedNetworks entry '{entry}' is not a network in CIDR notation (such as 10.0.0.0/8 or fd00::/8).";
        var covered = NeverAllowed.Where(n => n.BaseAddress.AddressFamily == network.BaseAddress.AddressFamily
            && (n.Contains(network.BaseAddress) || network.Contains(n.BaseAddress))).ToList();
        return covered.Count == 0
            ? null
            : $"Crm:Webhooks:AllowedNetworks entry '{entry}' covers {covered[0]}: loopback, link-local (with the metadata service), 0.0.0.0/8 and :: are never allowed.";
    }
}
