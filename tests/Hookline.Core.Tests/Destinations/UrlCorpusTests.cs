using System.Net;
using Hookline.Core.Destinations;

namespace Hookline.Core.Tests.Destinations;

/// <summary>
/// The SSRF corpus in <c>testdata/urls/</c>, run through the save-time check and, with the host and port the
/// delivery client would dial, through the connect-time decision. The two must agree.
/// </summary>
public sealed class UrlCorpusTests
{
    // Refusals that DecideAsync can reach too; the other rules (scheme, user information, whitespace,
    // backslashes, length, malformed) refuse URLs that are never saved, so nothing connects to them.
    private static readonly HashSet<string> ConnectTimeDescriptions =
    [
        UrlErrors.PrivateAddress,
        "url port must be 80 or 443",
        UrlErrors.PortRange,
        UrlErrors.InvalidHost,
    ];

    public static TheoryData<string, string> Blocked => UrlCorpus.Read("blocked.txt");

    public static TheoryData<string, string> Allowed => UrlCorpus.Read("allowed.txt");

    public static TheoryData<string, string> Rejected => UrlCorpus.Read("rejected.txt");

    [Theory]
    [MemberData(nameof(Blocked))]
    public async Task Blocked_url_is_refused_as_private_when_saved_and_when_connecting(string entry, string urlClass)
    {
        var url = UrlCorpus.Decode(entry);
        var policy = TestPolicies.Create();

        var syntax = policy.CheckSyntax(url);
        var saved = await policy.CheckAsync(url, CancellationToken.None);
        var uri = TestPolicies.ParseHttp(url);
        var connect = await policy.DecideAsync(uri.IdnHost, uri.Port, CancellationToken.None);

        Assert.True(urlClass.Length > 0);
        Assert.Equal((false, UrlErrors.PrivateAddress), (syntax.Allowed, syntax.Description));
        Assert.Equal((false, UrlErrors.PrivateAddress), (saved.Allowed, saved.Description));
        Assert.Null(saved.Uri);
        Assert.Equal((false, UrlErrors.PrivateAddress), (connect.Allowed, connect.Reason));
        Assert.Empty(connect.Addresses);
    }

    [Theory]
    [MemberData(nameof(Allowed))]
    public async Task Allowed_url_is_accepted_when_saved_and_when_connecting(string entry, string urlClass)
    {
        var url = UrlCorpus.Decode(entry);
        var policy = TestPolicies.Create();

        var saved = await policy.CheckAsync(url, CancellationToken.None);
        var uri = TestPolicies.ParseHttp(url);
        var connect = await policy.DecideAsync(uri.IdnHost, uri.Port, CancellationToken.None);

        Assert.True(urlClass.Length > 0);
        Assert.Equal((true, (string?)null), (saved.Allowed, saved.Description));
        Assert.Equal(uri, saved.Uri);
        Assert.Equal((true, (string?)null), (connect.Allowed, connect.Reason));
        Assert.NotEmpty(connect.Addresses);
        Assert.DoesNotContain(connect.Addresses, AddressPolicy.IsBlocked);
        if (IPAddress.TryParse(uri.IdnHost.TrimEnd('.'), out var literal))
        {
            Assert.Equal(literal, Assert.Single(connect.Addresses));
        }
    }

    [Theory]
    [MemberData(nameof(Rejected))]
    public async Task Rejected_url_gets_its_specific_description(string entry, string description)
    {
        var url = UrlCorpus.Decode(entry);
        var policy = TestPolicies.Create();

        var syntax = policy.CheckSyntax(url);
        var saved = await policy.CheckAsync(url, CancellationToken.None);

        Assert.Equal((false, description), (syntax.Allowed, syntax.Description));
        Assert.Equal((false, description), (saved.Allowed, saved.Description));
        if (ConnectTimeDescriptions.Contains(description))
        {
            var uri = TestPolicies.ParseHttp(url);
            var connect = await policy.DecideAsync(uri.IdnHost, uri.Port, CancellationToken.None);
            Assert.Equal((false, description), (connect.Allowed, connect.Reason));
            Assert.Empty(connect.Addresses);
        }
    }

    [Theory]
    [MemberData(nameof(Blocked))]
    public async Task With_private_networks_allowed_blocked_url_is_no_longer_refused_as_private(string entry, string urlClass)
    {
        var url = UrlCorpus.Decode(entry);
        var policy = TestPolicies.Create(allowPrivateNetworks: true);

        var saved = await policy.CheckAsync(url, CancellationToken.None);

        // Hosts that spell an address in fullwidth or other digits stay refused: they would be dialled as a
        // punycode name, never as the address they show.
        Assert.True(saved.Allowed || saved.Description == UrlErrors.InvalidHost, $"{urlClass}: {saved.Description}");
    }

    [Theory]
    [MemberData(nameof(Allowed))]
    public async Task With_private_networks_allowed_allowed_url_stays_allowed(string entry, string urlClass)
    {
        var url = UrlCorpus.Decode(entry);
        var policy = TestPolicies.Create(allowPrivateNetworks: true);

        var saved = await policy.CheckAsync(url, CancellationToken.None);

        Assert.True(saved.Allowed, $"{urlClass}: {saved.Description}");
    }

    [Theory]
    [MemberData(nameof(Rejected))]
    public async Task With_private_networks_allowed_only_the_port_rule_is_lifted(string entry, string description)
    {
        var url = UrlCorpus.Decode(entry);
        var policy = TestPolicies.Create(allowPrivateNetworks: true);

        var saved = await policy.CheckAsync(url, CancellationToken.None);

        if (description == "url port must be 80 or 443")
        {
            Assert.True(saved.Allowed, saved.Description);
        }
        else
        {
            Assert.Equal((false, description), (saved.Allowed, saved.Description));
        }
    }
}
