using System.Net;
using System.Text.Json;
using Hookline.Server.Tests.Api;
using Hookline.Server.Tests.Infrastructure;
using Hookline.Testing;

namespace Hookline.Server.Tests.MerchantApi;

/// <summary>
/// <c>Delivery:SourceAddresses</c> pins the address deliveries come from, and <c>GET /v1/webhooks/ips</c> tells
/// merchants what to allow. 127.0.0.2 is used rather than 127.0.0.1 because the kernel already picks 127.0.0.1
/// for a loopback destination: only a bound socket arrives from 127.0.0.2.
/// </summary>
public sealed class EgressTests : IAsyncLifetime
{
    private readonly ManualTimeProvider _clock = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly List<IPAddress?> _sources = [];
    private TestReceiver _receiver = null!;

    public async Task InitializeAsync()
        => _receiver = await TestReceiver.StartAsync((_, context) =>
        {
            lock (_sources)
            {
                _sources.Add(context.Connection.RemoteIpAddress);
            }

            context.Response.StatusCode = 200;
            return Task.CompletedTask;
        });

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    [Fact]
    public async Task Deliveries_come_from_the_configured_source_address_which_the_api_lists()
    {
        await using var host = await HooklineHost.StartAsync(new Dictionary<string, string?> { ["Delivery:SourceAddresses:0"] = "127.0.0.2" }, time: _clock);
        var account = await host.CreateAccountAsync();

        var ips = await account.Test.GetJsonAsync("/v1/webhooks/ips");
        Assert.Equal("collection", ips.GetProperty("entity").GetString());
        Assert.Equal(["127.0.0.2"], ips.GetProperty("items").EnumerateArray().Select(i => i.GetString()));

        await account.CreateWebhookAsync(_receiver.Url.ToString());
        var eventId = (await host.PublishAsync(account.Id)).GetProperty("id").GetString()!;
        await account.Test.DeliveryWithStatusAsync(eventId, "succeeded");

        Assert.Equal([IPAddress.Parse("127.0.0.2")], Sources());
    }

    [Fact]
    public async Task Without_source_addresses_the_list_is_empty_and_the_kernel_chooses()
    {
        await using var host = await HooklineHost.StartAsync(time: _clock);
        var account = await host.CreateAccountAsync();

        var ips = await account.Test.GetJsonAsync("/v1/webhooks/ips");
        Assert.Equal(0, ips.GetProperty("count").GetInt32());

        await account.CreateWebhookAsync(_receiver.Url.ToString());
        var eventId = (await host.PublishAsync(account.Id)).GetProperty("id").GetString()!;
        await account.Test.DeliveryWithStatusAsync(eventId, "succeeded");
        Assert.Equal([IPAddress.Loopback], Sources());
    }

    [Fact]
    public async Task Unbindable_source_address_fails_the_attempt_as_a_network_error_instead_of_sending_from_another()
    {
        // 192.0.2.1 (TEST-NET-1) is on no interface of this machine, so binding to it fails.
        await using var host = await HooklineHost.StartAsync(new Dictionary<string, string?> { ["Delivery:SourceAddresses:0"] = "192.0.2.1" }, time: _clock);
        var account = await host.CreateAccountAsync();
        await account.CreateWebhookAsync(_receiver.Url.ToString());

        var eventId = (await host.PublishAsync(account.Id)).GetProperty("id").GetString()!;
        var attempt = (await account.Test.DeliveryAfterAttemptsAsync(eventId, 1)).GetProperty("attempts")[0];

        Assert.Equal("network", attempt.GetProperty("error").GetString());
        Assert.Equal(JsonValueKind.Null, attempt.GetProperty("status_code").ValueKind);
        Assert.Equal(0, _receiver.Count);
    }

    [Fact]
    public async Task Destination_of_a_family_no_source_address_has_is_not_dialled_from_an_unlisted_address()
    {
        // Only an IPv6 source is listed; the receiver is IPv4. Sending from the kernel's IPv4 choice would
        // arrive from an address merchants were never told to allow.
        await using var host = await HooklineHost.StartAsync(new Dictionary<string, string?> { ["Delivery:SourceAddresses:0"] = "::1" }, time: _clock);
        var account = await host.CreateAccountAsync();
        Assert.Equal(["::1"], (await account.Test.GetJsonAsync("/v1/webhooks/ips")).GetProperty("items").EnumerateArray().Select(i => i.GetString()));
        await account.CreateWebhookAsync(_receiver.Url.ToString());

        var eventId = (await host.PublishAsync(account.Id)).GetProperty("id").GetString()!;
        var attempt = (await account.Test.DeliveryAfterAttemptsAsync(eventId, 1)).GetProperty("attempts")[0];

        Assert.Equal("network", attempt.GetProperty("error").GetString());
        Assert.Equal(0, _receiver.Count);
    }

    [Fact]
    public async Task Egress_list_needs_merchant_credentials()
    {
        await using var host = await HooklineHost.StartAsync(new Dictionary<string, string?> { ["Delivery:SourceAddresses:0"] = "127.0.0.2" }, time: _clock);

        await ApiAssert.UnauthorizedAsync(await host.Anonymous().GetAsync("/v1/webhooks/ips"));
    }

    private List<IPAddress?> Sources()
    {
        lock (_sources)
        {
            return [.. _sources];
        }
    }
}
