using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Hookline.Core.Delivery;
using Hookline.Server.Tests.Api;
using Hookline.Server.Tests.Infrastructure;
using Hookline.Testing;
using Microsoft.Extensions.Options;

namespace Hookline.Server.Tests.MerchantApi;

/// <summary>
/// The URL policy end to end, with the development switch off: a counting listener on 127.0.0.1 whose port is
/// allowed, so only the address rule stands between a delivery and it. DNS is scripted; the clock is manual,
/// so nothing is retried unless a test moves time.
/// </summary>
public sealed class SsrfEndToEndTests : IAsyncLifetime
{
    private const string Public = "93.184.216.34";
    private const string PrivateIp = "private ip found for host";
    private readonly ManualTimeProvider _clock = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly ScriptedDns _dns = new();
    private CountingListener _listener = null!;
    private HooklineHost _host = null!;
    private TestAccount _account = null!;

    public async Task InitializeAsync()
    {
        _listener = new CountingListener();
        _host = await HooklineHost.StartAsync(Strict(_listener.Port), time: _clock, jitter: new FixedJitter(0.5), dns: _dns);
        _account = await _host.CreateAccountAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _listener.DisposeAsync();
    }

    /// <summary>Private networks off; ports 80, 443 and the listener's, so a refusal can only come from the address.</summary>
    internal static Dictionary<string, string?> Strict(int port) => new()
    {
        ["Delivery:AllowPrivateNetworks"] = "false",
        ["Delivery:AllowedPorts:0"] = "80",
        ["Delivery:AllowedPorts:1"] = "443",
        ["Delivery:AllowedPorts:2"] = port.ToString(CultureInfo.InvariantCulture),
    };

    [Fact]
    public async Task Rebinding_from_public_at_save_to_loopback_at_send_is_blocked_permanently_with_zero_connections()
    {
        const string host = "rebind.example.com";
        _dns.Then(host, Public).Then(host, "127.0.0.1");

        await AssertBlockedAtSendAsync(host);
    }

    [Fact]
    public async Task Mixed_public_and_loopback_answers_are_refused_when_saved()
    {
        _dns.Then("mixed.example.com", Public, "127.0.0.1");
        _dns.Then("mixed-first.example.com", "127.0.0.1", Public);

        await AssertRefusedAtSaveAsync($"http://mixed.example.com:{_listener.Port}/hooks");
        await AssertRefusedAtSaveAsync($"http://mixed-first.example.com:{_listener.Port}/hooks");
        Assert.Equal(0, _listener.Connections);
    }

    [Fact]
    public async Task Mixed_answers_at_send_time_are_blocked_even_though_one_address_is_public()
    {
        // Loopback first: a guard that dialled "the first address" or "any allowed address" in order would reach the listener.
        const string host = "mixed-later.example.com";
        _dns.Then(host, Public).Then(host, "127.0.0.1", Public);

        await AssertBlockedAtSendAsync(host);
    }

    [Theory]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("::ffff:7f00:1")]
    [InlineData("64:ff9b::7f00:1")]
    [InlineData("64:ff9b::a9fe:a9fe")]
    [InlineData("::1")]
    [InlineData("0.0.0.0")]
    public async Task Disguised_loopback_answers_are_refused_when_saved(string answer)
    {
        _dns.Then("disguised.example.com", answer);

        await AssertRefusedAtSaveAsync($"http://disguised.example.com:{_listener.Port}/hooks");
        Assert.Equal(0, _listener.Connections);
    }

    [Theory]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("64:ff9b::7f00:1")]
    [InlineData("64:ff9b::a9fe:a9fe")]
    [InlineData("0.0.0.0")]
    public async Task Rebinding_to_a_disguised_loopback_answer_is_blocked_at_send(string answer)
    {
        const string host = "disguised-later.example.com";
        _dns.Then(host, Public).Then(host, answer);

        await AssertBlockedAtSendAsync(host);
    }

    [Theory]
    [InlineData("http://127.0.0.1:{0}/hooks")]
    [InlineData("http://127.0.0.2:{0}/hooks")]
    [InlineData("http://0.0.0.0:{0}/hooks")]
    [InlineData("http://[::ffff:127.0.0.1]:{0}/hooks")]
    [InlineData("http://[::1]:{0}/hooks")]
    [InlineData("http://2130706433:{0}/hooks")]
    [InlineData("http://0x7f.1:{0}/hooks")]
    [InlineData("http://localhost:{0}/hooks")]
    [InlineData("http://hooks.localhost:{0}/hooks")]
    public async Task Literal_loopback_url_is_refused_when_saved(string template)
    {
        await AssertRefusedAtSaveAsync(string.Format(CultureInfo.InvariantCulture, template, _listener.Port));
        Assert.Equal(0, _listener.Connections);
    }

    [Fact]
    public async Task Webhook_saved_while_private_networks_were_allowed_is_blocked_at_send_once_they_are_not()
    {
        // An operator who switches the development flag off must not keep loopback webhooks working: the same
        // database, first served by an API-only process with the flag on, then by a worker with it off.
        await using var permissive = await HooklineHost.StartAsync(
            new Dictionary<string, string?> { ["Server:Role"] = "api" }, time: _clock, dataDirectory: _host.DataDirectory + "-shared");
        await using var strict = await HooklineHost.StartAsync(Strict(_listener.Port), time: _clock, dns: _dns, dataDirectory: permissive.DataDirectory);
        var account = await permissive.CreateAccountAsync();
        var literal = await account.CreateWebhookAsync($"http://127.0.0.1:{_listener.Port}/hooks");
        Assert.True(literal.GetProperty("active").GetBoolean());

        var eventId = (await strict.PublishAsync(account.Id)).GetProperty("id").GetString()!;
        var delivery = await account.Test.DeliveryAfterAttemptsAsync(eventId, 1);

        AssertBlockedDelivery(delivery);
        Assert.Equal(0, _listener.Connections);
        await _listener.AssertCountsAConnectionAsync();
    }

    [Fact]
    public async Task Private_networks_are_refused_by_default()
    {
        await using var defaults = await HooklineHost.StartAsync(new Dictionary<string, string?> { ["Delivery:AllowPrivateNetworks"] = null }, time: _clock);
        var account = await defaults.CreateAccountAsync();

        var options = defaults.Get<IOptions<DeliveryOptions>>().Value;
        Assert.False(options.AllowPrivateNetworks);
        Assert.Equal([80, 443], options.AllowedPorts);
        await ApiAssert.ErrorAsync(await account.Test.PostAsJsonAsync("/v1/webhooks", new { url = "http://127.0.0.1/hooks", events = new[] { "payment.captured" } }), HttpStatusCode.BadRequest, "url", PrivateIp);
        await ApiAssert.ErrorAsync(await account.Test.PostAsJsonAsync("/v1/webhooks", new { url = "http://localhost/hooks", events = new[] { "payment.captured" } }), HttpStatusCode.BadRequest, "url", PrivateIp);
        await ApiAssert.ErrorAsync(
            await account.Test.PostAsJsonAsync("/v1/webhooks", new { url = $"http://127.0.0.1:{_listener.Port}/hooks", events = new[] { "payment.captured" } }),
            HttpStatusCode.BadRequest, "url", "url port must be 80 or 443");
        Assert.Equal(0, (await account.Test.GetJsonAsync("/v1/webhooks")).GetProperty("count").GetInt32());
    }

    private async Task AssertRefusedAtSaveAsync(string url)
    {
        var response = await _account.Test.PostAsJsonAsync("/v1/webhooks", new { url, events = new[] { "payment.captured" } });
        await ApiAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "url", PrivateIp);
        Assert.Equal(0, (await _account.Test.GetJsonAsync("/v1/webhooks")).GetProperty("count").GetInt32());
    }

    /// <summary>Saves a webhook on <paramref name="host"/> (its first answer must be public), publishes, and proves the attempt was blocked.</summary>
    private async Task AssertBlockedAtSendAsync(string host)
    {
        await _account.CreateWebhookAsync($"http://{host}:{_listener.Port}/hooks");
        Assert.Equal(1, _dns.QueriesFor(host));

        var eventId = (await _host.PublishAsync(_account.Id)).GetProperty("id").GetString()!;
        var delivery = await _account.Test.DeliveryAfterAttemptsAsync(eventId, 1);

        // The send re-resolved the name rather than trusting the answer from save time.
        Assert.True(_dns.QueriesFor(host) >= 2, $"{host} was resolved {_dns.QueriesFor(host)} times");
        AssertBlockedDelivery(delivery);

        // Permanent: a day later, after real lease rounds, still one attempt and no connection.
        var dispatcher = _host.Get<Dispatcher>();
        var rounds = dispatcher.LeaseRounds;
        _clock.Advance(TimeSpan.FromDays(1));
        await Eventually.UntilAsync(() => Task.FromResult(dispatcher.LeaseRounds), r => r > rounds, what: "a lease round after a day");
        var later = await _account.Test.DeliveryAsync(eventId);
        Assert.Equal(1, later.GetProperty("attempt_count").GetInt32());
        Assert.Equal("failed", later.GetProperty("status").GetString());

        Assert.Equal(0, _listener.Connections);
        await _listener.AssertCountsAConnectionAsync();
    }

    internal static void AssertBlockedDelivery(JsonElement delivery)
    {
        Assert.Equal("failed", delivery.GetProperty("status").GetString());
        Assert.Equal(1, delivery.GetProperty("attempt_count").GetInt32());
        Assert.Equal(JsonValueKind.Null, delivery.GetProperty("next_attempt_at").ValueKind);
        Assert.Equal("blocked_destination", delivery.GetProperty("last_error").GetString());
        var attempt = delivery.GetProperty("attempts")[0];
        Assert.Equal("blocked_destination", attempt.GetProperty("error").GetString());
        Assert.Equal(JsonValueKind.Null, attempt.GetProperty("status_code").ValueKind);
    }
}

/// <summary>Redirects are never followed, so a receiver on an allowed address cannot bounce a delivery to a blocked one.</summary>
public sealed class SsrfRedirectTests : IAsyncLifetime
{
    private readonly ManualTimeProvider _clock = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
    private CountingListener _listener = null!;
    private TestReceiver _receiver = null!;
    private HooklineHost _host = null!;

    public async Task InitializeAsync()
    {
        _listener = new CountingListener();
        _receiver = await TestReceiver.StartAsync();
        // The first hop is a receiver on loopback, so this host allows private networks.
        _host = await HooklineHost.StartAsync(time: _clock, jitter: new FixedJitter(0.5));
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _receiver.DisposeAsync();
        await _listener.DisposeAsync();
    }

    [Fact]
    public async Task Redirect_of_every_kind_to_the_counting_listener_opens_no_connection_to_it()
    {
        int[] codes = [301, 302, 303, 307, 308];
        _receiver.Handler = (_, context) =>
        {
            context.Response.StatusCode = int.Parse(context.Request.Path.Value!["/r".Length..], CultureInfo.InvariantCulture);
            context.Response.Headers.Location = $"http://127.0.0.1:{_listener.Port}/stolen";
            return Task.CompletedTask;
        };
        var account = await _host.CreateAccountAsync();
        var webhooks = new Dictionary<string, int>();
        foreach (var code in codes)
        {
            webhooks[(await account.CreateWebhookAsync(new Uri(_receiver.Url, $"/r{code}").ToString())).GetProperty("id").GetString()!] = code;
        }

        var eventId = (await _host.PublishAsync(account.Id)).GetProperty("id").GetString()!;

        foreach (var (webhookId, code) in webhooks)
        {
            var attempt = (await account.Test.DeliveryAfterAttemptsAsync(eventId, 1, webhookId)).GetProperty("attempts")[0];
            Assert.Equal("redirect", attempt.GetProperty("error").GetString());
            Assert.Equal(code, attempt.GetProperty("status_code").GetInt32());
        }

        Assert.Equal(codes.Length, _receiver.Count);
        Assert.Equal(0, _listener.Connections);
        await _listener.AssertCountsAConnectionAsync();
    }
}
