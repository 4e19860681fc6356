using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Hookline.Core.Storage;
using Hookline.Receiver;
using Hookline.Server.Tests.Infrastructure;

namespace Hookline.Server.Tests.Deliveries;

public sealed class WireProtocolTests : IAsyncLifetime
{
    private HooklineHost _host = null!;
    private TestReceiver _receiver = null!;

    public async Task InitializeAsync()
    {
        _host = await HooklineHost.StartAsync();
        _receiver = await TestReceiver.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    [Fact]
    public async Task Delivery_is_signed_as_Razorpay_signs_and_verifies_with_the_receiver_library_and_an_independent_HMAC()
    {
        var account = await _host.CreateAccountAsync();
        var webhook = await account.CreateWebhookAsync(_receiver.Url.ToString(), secret: "generate");
        var secret = webhook.GetProperty("secret").GetString()!;
        Assert.StartsWith("whsec_", secret);

        var published = await _host.PublishAsync(account.Id);
        var eventId = published.GetProperty("id").GetString()!;
        await _receiver.WaitForAsync(1);
        var request = _receiver.Requests[0];

        Assert.Equal("application/json", request.Header("Content-Type"));
        Assert.Equal("Razorpay-Webhook/v1", request.Header("User-Agent"));
        Assert.Equal(eventId["evt_".Length..], request.Header("X-Razorpay-Event-Id"));
        Assert.Equal(14, request.Header("X-Razorpay-Event-Id").Length);

        // Independent computation: HMAC-SHA256 over the raw body keyed with the whole secret string, lowercase hex.
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), request.Body));
        Assert.Equal(expected, request.Header("X-Razorpay-Signature"));
        Assert.True(WebhookSignature.Verify(request.Body, request.Header("X-Razorpay-Signature"), secret));

        // Standard Webhooks: v1,base64(HMAC(key = base64-decoded secret, "{id}.{timestamp}.{body}")).
        Assert.Equal(eventId, request.Header("webhook-id"));
        var timestamp = request.Header("webhook-timestamp");
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var signed = Encoding.UTF8.GetBytes($"{eventId}.{timestamp}.").Concat(request.Body).ToArray();
        Assert.Equal("v1," + Convert.ToBase64String(HMACSHA256.HashData(key, signed)), request.Header("webhook-signature"));
        Assert.Equal(SignatureCheck.Valid, StandardWebhooks.Verify(eventId, timestamp, request.Header("webhook-signature"), request.Body, secret, TimeProvider.System));
    }

    [Fact]
    public async Task Body_is_the_Razorpay_envelope_stored_at_ingestion_byte_for_byte()
    {
        var account = await _host.CreateAccountAsync();
        await account.CreateWebhookAsync(_receiver.Url.ToString(), secret: "a-plain-secret");
        var published = await _host.PublishAsync(account.Id, payload: new { payment = new { entity = new { id = "pay_29QQoUBi66xm2f", amount = 50000, notes = new { text = "ünïcödé ✓" } } } });
        await _receiver.WaitForAsync(1);

        var body = _receiver.Requests[0].Body;
        var stored = await _host.Get<IEventStore>().GetEventAsync(account.Id, "test", published.GetProperty("id").GetString()!, default);
        Assert.Equal(stored!.Body, body);

        using var envelope = JsonDocument.Parse(body);
        var root = envelope.RootElement;
        Assert.Equal(["entity", "account_id", "event", "contains", "payload", "created_at"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("event", root.GetProperty("entity").GetString());
        Assert.Equal(account.Id, root.GetProperty("account_id").GetString());
        Assert.Equal("payment.captured", root.GetProperty("event").GetString());
        Assert.Equal(["payment"], root.GetProperty("contains").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("ünïcödé ✓", root.GetProperty("payload").GetProperty("payment").GetProperty("entity").GetProperty("notes").GetProperty("text").GetString());
        Assert.Equal(published.GetProperty("created_at").GetInt64(), root.GetProperty("created_at").GetInt64());
    }

    [Fact]
    public async Task Webhook_without_a_secret_gets_no_signature_headers()
    {
        var account = await _host.CreateAccountAsync();
        await account.CreateWebhookAsync(_receiver.Url.ToString());
        await _host.PublishAsync(account.Id);
        await _receiver.WaitForAsync(1);

        var request = _receiver.Requests[0];
        Assert.Equal("", request.Header("X-Razorpay-Signature"));
        Assert.Equal("", request.Header("webhook-signature"));
        Assert.NotEqual("", request.Header("X-Razorpay-Event-Id"));
        Assert.NotEqual("", request.Header("webhook-timestamp"));
    }

    [Fact]
    public async Task Every_subscribed_webhook_gets_the_event_and_others_do_not()
    {
        await using var other = await TestReceiver.StartAsync();
        await using var liveReceiver = await TestReceiver.StartAsync();
        var account = await _host.CreateAccountAsync();
        await account.CreateWebhookAsync(_receiver.Url.ToString(), events: new[] { "*" });
        await account.CreateWebhookAsync(other.Url.ToString(), events: new[] { "refund.processed" });
        await account.CreateWebhookAsync(liveReceiver.Url.ToString(), events: new[] { "*" }, client: account.Live);

        var published = await _host.PublishAsync(account.Id);
        Assert.Equal(1, published.GetProperty("deliveries").GetInt32());
        await _receiver.WaitForAsync(1);
        await account.Test.DeliveryWithStatusAsync(published.GetProperty("id").GetString()!, "succeeded");
        Assert.Equal(0, other.Count);
        Assert.Equal(0, liveReceiver.Count);
    }
}
