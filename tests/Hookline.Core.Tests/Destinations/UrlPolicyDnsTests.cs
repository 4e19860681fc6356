using System.Net;
using Hookline.Core.Destinations;

namespace Hookline.Core.Tests.Destinations;

/// <summary>Scripted DNS answers (TESTING.md, faults about DNS): each must end in no connection to a blocked address.</summary>
public sealed class UrlPolicyDnsTests
{
    private const string Url = "https://hooks.example.com/razorpay";
    private const string Host = "hooks.example.com";

    [Fact]
    public async Task Rebinding_to_loopback_after_the_url_was_saved_is_blocked_at_connect_time()
    {
        var dns = new ScriptedDnsResolver().Answer(Host, "93.184.215.14").Answer(Host, "127.0.0.1");
        var policy = TestPolicies.Create(dns);

        var saved = await policy.CheckAsync(Url, CancellationToken.None);
        var connect = await policy.DecideAsync(Host, 443, CancellationToken.None);

        Assert.True(saved.Allowed);
        Assert.Equal((false, UrlErrors.PrivateAddress), (connect.Allowed, connect.Reason));
        Assert.Empty(connect.Addresses);
        Assert.Equal([Host, Host], dns.Queries);
    }

    [Fact]
    public async Task Mixed_public_and_private_answers_are_blocked_when_saved_and_when_connecting()
    {
        var dns = new ScriptedDnsResolver().Answer(Host, "93.184.215.14", "10.0.0.5", "2606:2800:220:1::1");
        var policy = TestPolicies.Create(dns);

        var saved = await policy.CheckAsync(Url, CancellationToken.None);
        var connect = await policy.DecideAsync(Host, 443, CancellationToken.None);

        Assert.Equal((false, UrlErrors.PrivateAddress), (saved.Allowed, saved.Description));
        Assert.Equal((false, UrlErrors.PrivateAddress), (connect.Allowed, connect.Reason));
        Assert.Empty(connect.Addresses);
    }

    [Theory]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("::ffff:169.254.169.254")]
    [InlineData("64:ff9b::a9fe:a9fe")]
    [InlineData("::1")]
    [InlineData("fe80::1")]
    [InlineData("0.0.0.0")]
    public async Task Private_aaaa_or_a_answer_is_blocked(string answer)
    {
        var policy = TestPolicies.Create(new ScriptedDnsResolver().Answer(Host, answer));

        var saved = await policy.CheckAsync(Url, CancellationToken.None);
        var connect = await policy.DecideAsync(Host, 443, CancellationToken.None);

        Assert.Equal((false, UrlErrors.PrivateAddress), (saved.Allowed, saved.Description));
        Assert.Equal((false, UrlErrors.PrivateAddress), (connect.Allowed, connect.Reason));
    }

    [Fact]
    public async Task Nxdomain_is_refused_with_reason_dns()
    {
        var policy = TestPolicies.Create(new ScriptedDnsResolver().NotFound(Host));

        var saved = await policy.CheckAsync(Url, CancellationToken.None);
        var connect = await policy.DecideAsync(Host, 443, CancellationToken.None);

        Assert.Equal((false, UrlErrors.Unresolvable), (saved.Allowed, saved.Description));
        Assert.Equal((false, UrlErrors.Dns), (connect.Allowed, connect.Reason));
        Assert.Empty(connect.Addresses);
    }

    [Fact]
    public async Task Empty_answer_is_refused_with_reason_dns()
    {
        var policy = TestPolicies.Create(new ScriptedDnsResolver().Answer(Host));

        var connect = await policy.DecideAsync(Host, 443, CancellationToken.None);

        Assert.Equal((false, UrlErrors.Dns), (connect.Allowed, connect.Reason));
    }

    [Fact]
    public async Task Resolver_failing_with_its_own_timeout_is_refused_with_reason_dns()
    {
        var dns = new ScriptedDnsResolver().Script(Host, _ => Task.FromException<IPAddress[]>(new TaskCanceledException("resolver timed out")));
        var policy = TestPolicies.Create(dns);

        var connect = await policy.DecideAsync(Host, 443, CancellationToken.None);

        Assert.Equal((false, UrlErrors.Dns), (connect.Allowed, connect.Reason));
    }

    [Fact]
    public async Task Slow_answer_is_awaited_and_still_checked()
    {
        var answer = new TaskCompletionSource<IPAddress[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        var policy = TestPolicies.Create(new ScriptedDnsResolver().Pending(Host, answer));

        var connecting = policy.DecideAsync(Host, 443, CancellationToken.None);
        Assert.False(connecting.IsCompleted);
        answer.SetResult([IPAddress.Loopback]);
        var connect = await connecting;

        Assert.Equal((false, UrlErrors.PrivateAddress), (connect.Allowed, connect.Reason));
    }

    [Fact]
    public async Task Slow_answer_is_abandoned_when_the_attempt_is_cancelled()
    {
        var answer = new TaskCompletionSource<IPAddress[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        var policy = TestPolicies.Create(new ScriptedDnsResolver().Pending(Host, answer));
        using var cts = new CancellationTokenSource();

        var connecting = policy.DecideAsync(Host, 443, cts.Token);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connecting);
    }

    [Fact]
    public async Task Allowed_decision_returns_exactly_the_checked_addresses_from_one_lookup()
    {
        var dns = new ScriptedDnsResolver()
            .Answer(Host, "93.184.215.14", "2606:2800:220:1::1", "93.184.215.14")
            .Answer(Host, "127.0.0.1");
        var policy = TestPolicies.Create(dns);

        var connect = await policy.DecideAsync(Host, 443, CancellationToken.None);

        Assert.True(connect.Allowed);
        Assert.Equal([IPAddress.Parse("93.184.215.14"), IPAddress.Parse("2606:2800:220:1::1")], connect.Addresses);
        Assert.Single(dns.Queries);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("8.8.8.8")]
    [InlineData("::1")]
    [InlineData("localhost")]
    [InlineData("printer.local")]
    [InlineData("intranet")]
    public async Task Ip_literals_and_reserved_names_never_reach_the_resolver(string host)
    {
        var dns = new ScriptedDnsResolver(IPAddress.Parse("93.184.215.14"));
        var policy = TestPolicies.Create(dns);

        await policy.DecideAsync(host, 443, CancellationToken.None);

        Assert.Empty(dns.Queries);
    }

    [Fact]
    public void Syntax_check_never_queries_dns()
    {
        var dns = new ScriptedDnsResolver(IPAddress.Parse("127.0.0.1"));
        var policy = TestPolicies.Create(dns);

        var verdict = policy.CheckSyntax(Url);

        Assert.True(verdict.Allowed);
        Assert.Empty(dns.Queries);
    }

    [Fact]
    public async Task With_private_networks_allowed_a_name_resolving_to_loopback_is_allowed_but_nxdomain_is_not()
    {
        var dns = new ScriptedDnsResolver().Answer("receiver.test", "127.0.0.1").NotFound("gone.test");
        var policy = TestPolicies.Create(dns, allowPrivateNetworks: true);

        var loopback = await policy.DecideAsync("receiver.test", 5000, CancellationToken.None);
        var gone = await policy.DecideAsync("gone.test", 5000, CancellationToken.None);

        Assert.Equal([IPAddress.Loopback], loopback.Addresses);
        Assert.Equal((false, UrlErrors.Dns), (gone.Allowed, gone.Reason));
    }

    [Fact]
    public async Task System_resolver_returns_an_ip_literal_without_a_lookup()
    {
        var addresses = await new SystemDnsResolver().ResolveAsync("192.0.2.1", CancellationToken.None);

        Assert.Equal([IPAddress.Parse("192.0.2.1")], addresses);
    }

    [Fact]
    public async Task System_resolver_refuses_an_empty_host_instead_of_answering_with_local_addresses()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => new SystemDnsResolver().ResolveAsync(string.Empty, CancellationToken.None));
    }
}
