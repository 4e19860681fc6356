using System.Net;
using System.Net.Sockets;
using System.Numerics;
using Hookline.Core.Destinations;

namespace Hookline.Core.Tests.Destinations;

public sealed class AddressPolicyTests
{
    // TESTING.md's block list, copied by hand so that the test is an independent oracle.
    private static readonly string[] BlockedIPv4Ranges =
    [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.0.2.0/24", "192.31.196.0/24", "192.52.193.0/24", "192.88.99.0/24",
        "192.168.0.0/16", "192.175.48.0/24", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
        "224.0.0.0/4", "240.0.0.0/4", "168.63.129.16/32",
    ];

    private static readonly string[] BlockedInsideGlobalUnicast =
    [
        "2001::/23", "2001:db8::/32", "2002::/16", "2620:4f:8000::/48", "3fff::/20",
    ];

    // Named ranges outside 2000::/3, blocked by that one rule.
    private static readonly string[] OutsideGlobalUnicast =
    [
        "::1/128", "::/128", "::/96", "64:ff9b::/96", "64:ff9b:1::/48", "fc00::/7", "fe80::/10", "fec0::/10",
        "ff00::/8", "100::/64", "5f00::/16",
    ];

    public static TheoryData<string> IPv4Ranges => [.. BlockedIPv4Ranges];

    public static TheoryData<string> IPv6Ranges => [.. BlockedInsideGlobalUnicast, .. OutsideGlobalUnicast];

    public static TheoryData<string> AllRanges => [.. BlockedIPv4Ranges, .. BlockedInsideGlobalUnicast, .. OutsideGlobalUnicast];

    [Theory]
    [MemberData(nameof(AllRanges))]
    public void First_and_last_address_of_each_blocked_range_are_blocked(string range)
    {
        var (first, last) = Bounds(range);

        Assert.True(AddressPolicy.IsBlocked(first), first.ToString());
        Assert.True(AddressPolicy.IsBlocked(last), last.ToString());
    }

    [Theory]
    [MemberData(nameof(AllRanges))]
    public void Neighbours_of_each_blocked_range_are_judged_by_the_list_alone(string range)
    {
        var (first, last) = Bounds(range);

        foreach (var neighbour in new[] { Offset(first, -1), Offset(last, 1) }.OfType<IPAddress>())
        {
            Assert.Equal(ExpectedBlocked(neighbour), AddressPolicy.IsBlocked(neighbour));
        }
    }

    [Fact]
    public void Some_neighbours_are_public_so_the_oracle_is_not_trivially_true()
    {
        var neighbours = BlockedIPv4Ranges.Concat(BlockedInsideGlobalUnicast)
            .SelectMany(r => new[] { Offset(Bounds(r).First, -1), Offset(Bounds(r).Last, 1) })
            .OfType<IPAddress>()
            .ToList();

        Assert.True(neighbours.Count(a => !AddressPolicy.IsBlocked(a)) >= 30);
    }

    [Theory]
    [MemberData(nameof(IPv4Ranges))]
    public void Ipv4_mapped_form_of_each_blocked_ipv4_range_is_blocked(string range)
    {
        var (first, last) = Bounds(range);

        Assert.True(AddressPolicy.IsBlocked(first.MapToIPv6()), first.MapToIPv6().ToString());
        Assert.True(AddressPolicy.IsBlocked(last.MapToIPv6()), last.MapToIPv6().ToString());
    }

    [Theory]
    [InlineData("::ffff:8.8.8.8")]
    [InlineData("::ffff:9.255.255.255")]
    [InlineData("::ffff:172.32.0.0")]
    public void Ipv4_mapped_public_address_is_allowed(string address)
    {
        Assert.False(AddressPolicy.IsBlocked(IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("::8.8.8.8")]
    [InlineData("::ffff:0:8.8.8.8")]
    [InlineData("64:ff9b::8.8.8.8")]
    [InlineData("64:ff9b:1::808:808")]
    [InlineData("2002:808:808::1")]
    [InlineData("2001:0:4136:e378:8000:63bf:f7f7:f7f7")]
    public void Ipv6_forms_that_embed_a_public_ipv4_address_are_still_blocked(string address)
    {
        Assert.True(AddressPolicy.IsBlocked(IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("::")]
    [InlineData("::ffff:0.0.0.0")]
    public void Unspecified_address_is_blocked_because_connecting_to_it_reaches_localhost(string address)
    {
        Assert.True(AddressPolicy.IsBlocked(IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("1.1.1.1")]
    [InlineData("2001:4860:4860::8888")]
    [InlineData("2606:4700:4700::1111")]
    public void Ordinary_public_address_is_allowed(string address)
    {
        Assert.False(AddressPolicy.IsBlocked(IPAddress.Parse(address)));
    }

    [Fact]
    public void Link_local_address_with_a_scope_id_is_blocked()
    {
        Assert.True(AddressPolicy.IsBlocked(new IPAddress(IPAddress.Parse("fe80::1").GetAddressBytes(), scopeid: 2)));
    }

    private static bool ExpectedBlocked(IPAddress address)
    {
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return BlockedIPv4Ranges.Any(r => InRange(address, r));
        }

        return !InRange(address, "2000::/3") || BlockedInsideGlobalUnicast.Any(r => InRange(address, r));
    }

    private static bool InRange(IPAddress address, string range)
    {
        var (first, last) = Bounds(range);
        if (first.AddressFamily != address.AddressFamily)
        {
            return false;
        }

        var value = ToInteger(address);
        return value >= ToInteger(first) && value <= ToInteger(last);
    }

    private static (IPAddress First, IPAddress Last) Bounds(string range)
    {
        var slash = range.IndexOf('/', StringComparison.Ordinal);
        var network = IPAddress.Parse(range[..slash]);
        var prefix = int.Parse(range[(slash + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        var bits = network.GetAddressBytes().Length * 8;
        var size = BigInteger.One << (bits - prefix);
        var first = ToInteger(network) / size * size;
        return (FromInteger(first, network.AddressFamily), FromInteger(first + size - 1, network.AddressFamily));
    }

    private static IPAddress? Offset(IPAddress address, int delta)
    {
        var value = ToInteger(address) + delta;
        var max = (BigInteger.One << (address.GetAddressBytes().Length * 8)) - 1;
        return value < 0 || value > max ? null : FromInteger(value, address.AddressFamily);
    }

    private static BigInteger ToInteger(IPAddress address) =>
        new(address.GetAddressBytes(), isUnsigned: true, isBigEndian: true);

    private static IPAddress FromInteger(BigInteger value, AddressFamily family)
    {
        var length = family == AddressFamily.InterNetwork ? 4 : 16;
        var bytes = value.ToByteArray(isUnsigned: true, isBigEndian: true);
        var padded = new byte[length];
        bytes.CopyTo(padded, length - bytes.Length);
        return new IPAddress(padded);
    }
}
