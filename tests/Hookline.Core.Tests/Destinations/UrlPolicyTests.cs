using System.Net;
using Hookline.Core.Delivery;
using Hookline.Core.Destinations;

namespace Hookline.Core.Tests.Destinations;

/// <summary>Named scenarios beside the corpus, including the .NET <see cref="Uri"/> quirks the policy relies on.</summary>
public sealed class UrlPolicyTests
{
    [Fact]
    public void Default_delivery_options_refuse_private_networks_and_allow_only_ports_80_and_443()
    {
        var options = new DeliveryOptions();

        Assert.False(options.AllowPrivateNetworks);
        Assert.Equal([80, 443], options.AllowedPorts);
    }

    [Fact]
    public async Task With_private_networks_allowed_a_loopback_receiver_on_port_8080_is_allowed()
    {
        var policy = TestPolicies.Create(allowPrivateNetworks: true);

        var saved = await policy.CheckAsync("http://127.0.0.1:8080/", CancellationToken.None);
        var connect = await policy.DecideAsync("127.0.0.1", 8080, CancellationToken.None);

        Assert.True(saved.Allowed, saved.Description);
        Assert.Equal(8080, saved.Uri!.Port);
        Assert.True(connect.Allowed, connect.Reason);
        Assert.Equal([IPAddress.Loopback], connect.Addresses);
    }

    [Fact]
    public async Task With_default_options_a_loopback_receiver_on_port_8080_is_refused()
    {
        var policy = TestPolicies.Create();

        var saved = await policy.CheckAsync("http://127.0.0.1:8080/", CancellationToken.None);
        var atPort80 = await policy.CheckAsync("http://127.0.0.1/", CancellationToken.None);

        Assert.False(saved.Allowed);
        Assert.Equal("url port must be 80 or 443", saved.Description);
        Assert.Equal(UrlErrors.PrivateAddress, atPort80.Description);
    }

    [Fact]
    public async Task With_private_networks_allowed_user_information_and_other_schemes_are_still_refused()
    {
        var policy = TestPolicies.Create(allowPrivateNetworks: true);

        Assert.Equal(UrlErrors.UserInfo, (await policy.CheckAsync("http://user:pw@127.0.0.1:8080/", CancellationToken.None)).Description);
        Assert.Equal(UrlErrors.Scheme, (await policy.CheckAsync("ftp://127.0.0.1/", CancellationToken.None)).Description);
    }

    [Fact]
    public void Loopback_in_octal_notation_is_blocked()
    {
        var verdict = TestPolicies.Create().CheckSyntax("http://0177.0.0.1/");

        Assert.Equal(UrlErrors.PrivateAddress, verdict.Description);
    }

    [Fact]
    public void Cloud_metadata_address_as_one_hex_number_is_blocked()
    {
        var verdict = TestPolicies.Create().CheckSyntax("http://0xa9fea9fe/latest/meta-data/");

        Assert.Equal(UrlErrors.PrivateAddress, verdict.Description);
    }

    [Fact]
    public void Octal_looking_host_0127_0_0_1_is_the_public_address_87_0_0_1()
    {
        var verdict = TestPolicies.Create().CheckSyntax("http://0127.0.0.1/");

        Assert.True(verdict.Allowed);
        Assert.Equal("87.0.0.1", verdict.Uri!.IdnHost);
    }

    [Fact]
    public void Ideographic_full_stops_give_a_dns_host_whose_IdnHost_is_loopback()
    {
        var uri = new Uri("http://127。0。0。1/");

        var verdict = TestPolicies.Create().CheckSyntax(uri.OriginalString);

        // Uri calls this host a name, and its Host is not an address; only IdnHost shows what is dialled.
        Assert.Equal(UriHostNameType.Dns, uri.HostNameType);
        Assert.Equal("127.0.0.1", uri.IdnHost);
        Assert.Equal(UrlErrors.PrivateAddress, verdict.Description);
    }

    [Fact]
    public void Fullwidth_loopback_is_blocked_although_IdnHost_makes_it_punycode()
    {
        var uri = new Uri("http://１２７.０.０.１/");

        var verdict = TestPolicies.Create().CheckSyntax(uri.OriginalString);

        Assert.Equal(UriHostNameType.Dns, uri.HostNameType);
        Assert.StartsWith("xn--", uri.IdnHost, StringComparison.Ordinal);
        Assert.Equal(UrlErrors.PrivateAddress, verdict.Description);
    }

    [Fact]
    public async Task Fullwidth_loopback_is_blocked_at_connect_time_from_its_punycode_alone()
    {
        var dns = new ScriptedDnsResolver(TestPolicies.PublicAddress);
        var policy = TestPolicies.Create(dns);

        var connect = await policy.DecideAsync(new Uri("http://１２７.０.０.１/").IdnHost, 80, CancellationToken.None);

        Assert.Equal((false, UrlErrors.PrivateAddress), (connect.Allowed, connect.Reason));
        Assert.Empty(dns.Queries);
    }

    [Fact]
    public void Port_written_as_0080_is_port_80()
    {
        var verdict = TestPolicies.Create().CheckSyntax("http://example.com:0080/hooks");

        Assert.True(verdict.Allowed);
        Assert.Equal(80, verdict.Uri!.Port);
    }

    [Fact]
    public async Task Configured_ports_replace_80_and_443()
    {
        var policy = TestPolicies.Create(allowedPorts: [443]);

        var http = await policy.CheckAsync("http://example.com/", CancellationToken.None);
        var https = await policy.CheckAsync("https://example.com/", CancellationToken.None);

        Assert.Equal("url port must be 443", http.Description);
        Assert.True(https.Allowed);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Missing_url_is_required(string? url)
    {
        Assert.Equal(UrlErrors.Required, TestPolicies.Create().CheckSyntax(url).Description);
    }

    [Fact]
    public void Url_of_255_characters_is_allowed_and_of_256_is_not()
    {
        var policy = TestPolicies.Create();
        var longest = "https://example.com/" + new string('a', 235);

        Assert.Equal(255, longest.Length);
        Assert.True(policy.CheckSyntax(longest).Allowed);
        Assert.Equal(UrlErrors.TooLong, policy.CheckSyntax(longest + "a").Description);
    }

    [Fact]
    public async Task Connect_time_refuses_a_unicode_host_so_callers_must_pass_IdnHost()
    {
        var policy = TestPolicies.Create();

        var unicode = await policy.DecideAsync("bücher.de", 443, CancellationToken.None);
        var idn = await policy.DecideAsync(new Uri("https://bücher.de/").IdnHost, 443, CancellationToken.None);

        Assert.Equal((false, UrlErrors.InvalidHost), (unicode.Allowed, unicode.Reason));
        Assert.True(idn.Allowed);
    }

    [Theory]
    [InlineData("[2001:4860:4860::8888]", true)]
    [InlineData("[::1]", false)]
    [InlineData("[::1]:80", false)]
    [InlineData("0x7f.1", false)]
    [InlineData("1", false)]
    public async Task Connect_time_reads_hosts_as_the_socket_layer_would(string host, bool allowed)
    {
        var connect = await TestPolicies.Create().DecideAsync(host, 443, CancellationToken.None);

        Assert.Equal(allowed, connect.Allowed);
    }

    [Fact]
    public async Task Connect_time_and_save_time_share_the_port_rule()
    {
        var policy = TestPolicies.Create();

        var decision = await policy.DecideAsync("example.com", 8443, CancellationToken.None);

        Assert.Equal("url port must be 80 or 443", decision.Reason);
    }
}
