using System.Net;
using Hookline.Server.Tests.Api;
using Hookline.Server.Tests.Infrastructure;
using Hookline.Testing;

namespace Hookline.Server.Tests.MerchantApi;

/// <summary>
/// Every event is signed, on every attempt and replay, with the secret in force when it was created (DESIGN §3).
/// Signatures are checked here with HMACSHA256, not with the server's signing code.
/// </summary>
public sealed class SecretRotationTests : IAsyncLifetime
{
    private const string First = "rotation-secret-one-0001";
    private const string Second = "rotation-secret-two-0002";
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly ManualTimeProvider _clock = new(Start);
    private HooklineHost _host = null!;
    private TestReceiver _receiver = null!;

    public async Task InitializeAsync()
    {
        // Jitter at the middle of its range: retries exactly 10 s and 20 s after the first attempt's failure.
        _host = await HooklineHost.StartAsync(new Dictionary<string, string?> { ["Delivery:RetryBaseDelay"] = "00:00:10" }, time: _clock, jitter: new FixedJitter(0.5));
        _receiver = await TestReceiver.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    [Fact]
    public async Task Old_event_keeps_its_secret_on_retry_and_replay_while_new_events_use_the_rotated_one()
    {
        var failing = true;
        _receiver.Handler = (_, context) => { context.Response.StatusCode = Volatile.Read(ref failing) ? 500 : 200; return Task.CompletedTask; };
        var account = await _host.CreateAccountAsync();
        var webhookId = (await account.CreateWebhookAsync(_receiver.Url.ToString(), secret: First)).GetProperty("id").GetString()!;

        var e1 = (await _host.PublishAsync(account.Id)).GetProperty("id").GetString()!;
        await account.Test.DeliveryAfterAttemptsAsync(e1, 1);
        await ApiAssert.JsonAsync(await account.Test.PatchJsonAsync($"/v1/webhooks/{webhookId}", $$"""{"secret":"{{Second}}"}"""), HttpStatusCode.OK);
        var e2 = (await _host.PublishAsync(account.Id)).GetProperty("id").GetString()!;
        await account.Test.DeliveryAfterAttemptsAsync(e2, 1);

        _clock.Advance(TimeSpan.FromSeconds(10));
        await account.Test.DeliveryAfterAttemptsAsync(e1, 2);
        await account.Test.DeliveryAfterAttemptsAsync(e2, 2);
        Volatile.Write(ref failing, false);
        _clock.Advance(TimeSpan.FromSeconds(20));
        await account.Test.DeliveryWithStatusAsync(e1, "succeeded");
        await account.Test.DeliveryWithStatusAsync(e2, "succeeded");

        var e1Requests = RequestsFor(e1);
        var e2Requests = RequestsFor(e2);
        Assert.Equal(3, e1Requests.Count);
        Assert.Equal(3, e2Requests.Count);
        Assert.All(e1Requests, r => Signatures.AssertSignedWith(r, First, $"{e1} attempt {r.Number}"));
        Assert.All(e2Requests, r => Signatures.AssertSignedWith(r, Second, $"{e2} attempt {r.Number}"));
        Assert.NotEqual(Signatures.Razorpay(e2Requests[0].Body, First), e2Requests[0].Header("X-Razorpay-Signature"));

        // Replay of the old event, after the rotation and after it succeeded: still the first secret, same bytes.
        _clock.Advance(TimeSpan.FromHours(1));
        var replay = await ApiAssert.JsonAsync(await account.Test.PostJsonAsync($"/v1/events/{e1}/replay", "{}"), HttpStatusCode.Accepted);
        Assert.Equal(1, replay.GetProperty("queued").GetInt32());
        var delivery = await account.Test.DeliveryAfterAttemptsAsync(e1, 4);

        var replayed = RequestsFor(e1)[^1];
        Assert.Equal(4, RequestsFor(e1).Count);
        Assert.Equal(e1Requests[0].Body, replayed.Body);
        Assert.Equal(e1Requests[0].Header("X-Razorpay-Signature"), replayed.Header("X-Razorpay-Signature"));
        Signatures.AssertSignedWith(replayed, First, "replay");
        Assert.Equal(Start.AddSeconds(30).AddHours(1).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), replayed.Header("webhook-timestamp"));
        var attempts = delivery.GetProperty("attempts").EnumerateArray().ToList();
        Assert.Equal(["initial", "retry", "retry", "replay"], attempts.Select(a => a.GetProperty("trigger").GetString()));
        Assert.Equal("succeeded", (await account.Test.DeliveryWithStatusAsync(e1, "succeeded")).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Removing_the_secret_leaves_earlier_events_signed_and_later_ones_unsigned()
    {
        var account = await _host.CreateAccountAsync();
        var webhookId = (await account.CreateWebhookAsync(_receiver.Url.ToString(), secret: First)).GetProperty("id").GetString()!;
        var signed = (await _host.PublishAsync(account.Id)).GetProperty("id").GetString()!;
        await account.Test.DeliveryWithStatusAsync(signed, "succeeded");
        await ApiAssert.JsonAsync(await account.Test.PatchJsonAsync($"/v1/webhooks/{webhookId}", """{"secret":null}"""), HttpStatusCode.OK);
        var unsigned = (await _host.PublishAsync(account.Id)).GetProperty("id").GetString()!;
        await account.Test.DeliveryWithStatusAsync(unsigned, "succeeded");

        await ApiAssert.JsonAsync(await account.Test.PostJsonAsync($"/v1/events/{signed}/replay", "{}"), HttpStatusCode.Accepted);
        await account.Test.DeliveryAfterAttemptsAsync(signed, 2);

        Assert.All(RequestsFor(signed), r => Signatures.AssertSignedWith(r, First, "event created before the removal"));
        var plain = Assert.Single(RequestsFor(unsigned));
        Assert.Equal("", plain.Header("X-Razorpay-Signature"));
        Assert.Equal("", plain.Header("webhook-signature"));
    }

    private List<ReceivedRequest> RequestsFor(string eventId)
        => [.. _receiver.Requests.Where(r => r.Header("webhook-id") == eventId)];
}
