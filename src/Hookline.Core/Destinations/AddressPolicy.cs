using System.Net;
using System.Net.Sockets;

namespace Hookline.Core.Destinations;

/// <summary>Which addresses Hookline never connects to (TESTING.md, SSRF block list).</summary>
public static class AddressPolicy
{
    // Special-purpose IPv4 ranges (IANA registry, RFC 6890) plus Azure's wire server, which answers
    // metadata requests from any VM. 0.0.0.0/8 matters in practice: connecting to 0.0.0.0 reaches
    // localhost on Linux.
    private static readonly IPNetwork[] BlockedIPv4 =
    [
        IPNetwork.Parse("0.0.0.0/8"),
        IPNetwork.Parse("10.0.0.0/8"),
        IPNetwork.Parse("100.64.0.0/10"),
        IPNetwork.Parse("127.0.0.0/8"),
        IPNetwork.Parse("169.254.0.0/16"),
        IPNetwork.Parse("172.16.0.0/12"),
        IPNetwork.Parse("192.0.0.0/24"),
        IPNetwork.Parse("192.0.2.0/24"),
        IPNetwork.Parse("192.31.196.0/24"),
        IPNetwork.Parse("192.52.193.0/24"),
        IPNetwork.Parse("192.88.99.0/24"),
        IPNetwork.Parse("192.168.0.0/16"),
        IPNetwork.Parse("192.175.48.0/24"),
        IPNetwork.Parse("198.18.0.0/15"),
        IPNetwork.Parse("198.51.100.0/24"),
        IPNetwork.Parse("203.0.113.0/24"),
        IPNetwork.Parse("224.0.0.0/4"),
        IPNetwork.Parse("240.0.0.0/4"),
        IPNetwork.Parse("168.63.129.16/32"),
    ];

    // Only global unicast is reachable on the internet, so IPv6 is an allow list. That one rule blocks
    // loopback, unspecified, IPv4-compatible (::a.b.c.d), NAT64, ULA, link-local, site-local and multicast.
    private static readonly IPNetwork GlobalUnicast = IPNetwork.Parse("2000::/3");

    // Inside global unicast: special-purpose blocks, and tunnels (Teredo in 2001::/32, 6to4) whose
    // embedded IPv4 address could be anything.
    private static readonly IPNetwork[] BlockedGlobalUnicast =
    [
        IPNetwork.Parse("2001::/23"),
        IPNetwork.Parse("2001:db8::/32"),
        IPNetwork.Parse("2002::/16"),
        IPNetwork.Parse("2620:4f:8000::/48"),
        IPNetwork.Parse("3fff::/20"),
    ];

    public static bool IsBlocked(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);

        // IPNetwork.Parse("::ffff:0:0/96") does not match mapped addresses, and a mapped address is dialled
        // as its IPv4 address: judge it as one.
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return address.AddressFamily switch
        {
            AddressFamily.InterNetwork => AnyContains(BlockedIPv4, address),
            AddressFamily.InterNetworkV6 => !GlobalUnicast.Contains(address) || AnyContains(BlockedGlobalUnicast, address),
            _ => true,
        };
    }

    private static bool AnyContains(IPNetwork[] networks, IPAddress address)
    {
        foreach (var network in networks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }
}
