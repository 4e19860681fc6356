using System.Net;
using System.Text.Json;
using Hookline.Server.Tests.Api;
using Hookline.Server.Tests.Infrastructure;
using Hookline.Testing;

namespace Hookline.Server.Tests.MerchantApi;

/// <summary>
/// <c>POST /v1/webhooks/{id}/test</c>: a signed sample of the requested event type goes to that webhook only,
/// recorded like any delivery with the trigger <c>test</c>; test-mode keys only.
/// </summary>
public sealed class TestFireTests : IAsyncLifetime
{
    private const string Secret = "test-fire-secret-0001";
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly ManualTimeProvider _clock = new(Start);
    private HooklineHost _host = null!;
    private TestReceiver _receiver = null!;
    private TestAccount _account = null!;

    public async Task InitializeAsync()
    {
        _host = await HooklineHost.StartAsync(time: _clock, jitter: new FixedJitter(0.5));
        _receiver = await TestReceiver.StartAsync();
        _account = await _host.CreateAccountAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    private string Url(string path) => new Uri(_receiver.Url, path).ToString();

    [Fact]
    public async Task Test_fire_sends_a_signed_sample_of_the_requested_event_to_that_webhook_only()
    {
        // Subscribed to payment.captured only: a test fire may send any event of the product.
        var webhookId = (await _account.CreateWebhookAsync(Url("/target"), secret: Secret)).GetProperty("id").GetString()!;
        await _account.CreateWebhookAsync(Url("/bystander"), events: new[] { "*" });

        var fired = await ApiAssert.JsonAsync(await _account.Test.PostJsonAsync($"/v1/webhooks/{webhookId}/test", """{"event":"refund.processed"}"""), HttpStatusCode.Created);

        var eventId = fired.GetProperty("id").GetString()!;
        ApiAssert.IsId("evt_", eventId);
        Assert.Equal("refund.processed", fired.GetProperty("event").GetString());
        Assert.Equal(webhookId, fired.GetProperty("webhook_id").GetString());
        var delivery = await _account.Test.DeliveryWithStatusAsync(eventId, "succeeded");
        var request = Assert.Single(_receiver.Requests);
        Assert.Equal("/target", request.Path);
        Signatures.AssertSignedWith(request, Secret, "test fire");
        Assert.Equal(eventId, request.Header("webhook-id"));
        Assert.Equal(eventId["evt_".Length..], request.Header("X-Razorpay-Event-Id"));

        using var body = JsonDocument.Parse(request.Body);
        var envelope = body.RootElement;
        Assert.Equal(["entity", "account_id", "event", "contains", "payload", "created_at"], envelope.EnumerateObject().Select(p => p.Name));
        Assert.Equal("event", envelope.GetProperty("entity").GetString());
        Assert.Equal(_account.Id, envelope.GetProperty("account_id").GetString());
        Assert.Equal("refund.processed", envelope.GetProperty("event").GetString());
        Assert.Equal(["refund", "payment"], envelope.GetProperty("contains").EnumerateArray().Select(c => c.GetString()));
        var refund = envelope.GetProperty("payload").GetProperty("refund").GetProperty("entity");
        Assert.Equal("refund", refund.GetProperty("entity").GetString());
        Assert.StartsWith("rfnd_", refund.GetProperty("id").GetString());
        Assert.Equal("processed", refund.GetProperty("status").GetString());
        Assert.Equal(Start.ToUnixTimeSeconds(), envelope.GetProperty("created_at").GetInt64());
        var receiverView = Hookline.Receiver.WebhookEnvelope.Parse(request.Body);
        Assert.Equal("refund.processed", receiverView.Event);

        Assert.Equal(webhookId, delivery.GetProperty("webhook_id").GetString());
        Assert.Equal(["test"], delivery.GetProperty("attempts").EnumerateArray().Select(a => a.GetProperty("trigger").GetString()));
        var evt = await _account.Test.GetJsonAsync($"/v1/events/{eventId}");
        Assert.Equal([webhookId], evt.GetProperty("deliveries").EnumerateArray().Select(d => d.GetProperty("webhook_id").GetString()));
        Assert.Equal(1, (await _account.Test.GetJsonAsync($"/v1/webhooks/{webhookId}/deliveries")).GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Test_fire_without_a_body_sends_the_first_subscribed_event()
    {
        var webhookId = (await _account.CreateWebhookAsync(Url("/default"), events: new[] { "order.paid", "payment.captured" })).GetProperty("id").GetString()!;

        var fired = await ApiAssert.JsonAsync(await _account.Test.PostAsync($"/v1/webhooks/{webhookId}/test", null), HttpStatusCode.Created);

        Assert.Equal("order.paid", fired.GetProperty("event").GetString());
        await _receiver.WaitForAsync(1);
        using var body = JsonDocument.Parse(_receiver.Requests[0].Body);
        Assert.Equal("order.paid", body.RootElement.GetProperty("event").GetString());
        Assert.Equal("", _receiver.Requests[0].Header("X-Razorpay-Signature"));
    }

    [Fact]
    public async Task Test_fire_to_a_payouts_webhook_sends_a_payouts_event()
    {
        var webhookId = (await _account.CreateWebhookAsync(Url("/payouts"), events: new[] { "*" }, product: "payouts")).GetProperty("id").GetString()!;

        var fired = await ApiAssert.JsonAsync(await _account.Test.PostJsonAsync($"/v1/webhooks/{webhookId}/test", "{}"), HttpStatusCode.Created);

        Assert.Equal("payout.processed", fired.GetProperty("event").GetString());
        await _receiver.WaitForAsync(1);
    }

    [Fact]
    public async Task Test_fire_is_refused_with_a_live_key()
    {
        var webhookId = (await _account.CreateWebhookAsync(Url("/live"), client: _account.Live)).GetProperty("id").GetString()!;

        await ApiAssert.ErrorAsync(await _account.Live.PostJsonAsync($"/v1/webhooks/{webhookId}/test", """{"event":"payment.captured"}"""), HttpStatusCode.BadRequest);

        Assert.Equal(0, (await _account.Live.GetJsonAsync("/v1/events")).GetProperty("count").GetInt32());
        Assert.Equal(0, _receiver.Count);
    }

    [Theory]
    [InlineData("""{"event":"payout.processed"}""", "event")]
    [InlineData("""{"event":"no.such_event"}""", "event")]
    [InlineData("""{"event":"*"}""", "event")]
    [InlineData("""{"event":42}""", "event")]
    [InlineData("""{"evnt":"payment.captured"}""", "evnt")]
    public async Task Test_fire_of_an_event_outside_the_webhooks_product_or_catalogue_is_refused(string body, string field)
    {
        var webhookId = (await _account.CreateWebhookAsync(Url("/payments"))).GetProperty("id").GetString()!;

        await ApiAssert.ErrorAsync(await _account.Test.PostJsonAsync($"/v1/webhooks/{webhookId}/test", body), HttpStatusCode.BadRequest, field);

        Assert.Equal(0, (await _account.Test.GetJsonAsync("/v1/events")).GetProperty("count").GetInt32());
        Assert.Equal(0, _receiver.Count);
    }

    [Fact]
    public async Task Test_fire_to_a_disabled_webhook_is_refused()
    {
        var webhookId = (await _account.CreateWebhookAsync(Url("/disabled"))).GetProperty("id").GetString()!;
        await ApiAssert.JsonAsync(await _account.Test.PatchJsonAsync($"/v1/webhooks/{webhookId}", """{"active":false}"""), HttpStatusCode.OK);

        await ApiAssert.ErrorAsync(await _account.Test.PostJsonAsync($"/v1/webhooks/{webhookId}/test", """{"event":"payment.captured"}"""), HttpStatusCode.BadRequest);

        Assert.Equal(0, (await _account.Test.GetJsonAsync("/v1/events")).GetProperty("count").GetInt32());
        Assert.Equal(0, _receiver.Count);
    }

    [Fact]
    public async Task Test_fire_to_another_accounts_webhook_is_404()
    {
        var webhookId = (await _account.CreateWebhookAsync(Url("/owner"))).GetProperty("id").GetString()!;
        var intruder = await _host.CreateAccountAsync("Globex", "ops@globex.test");

        await ApiAssert.NotFoundAsync(await intruder.Test.PostJsonAsync($"/v1/webhooks/{webhookId}/test", """{"event":"payment.captured"}"""));

        Assert.Equal(0, (await intruder.Test.GetJsonAsync("/v1/events")).GetProperty("count").GetInt32());
        Assert.Equal(0, (await _account.Test.GetJsonAsync("/v1/events")).GetProperty("count").GetInt32());
        Assert.Equal(0, _receiver.Count);
    }
}
