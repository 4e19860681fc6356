using System.Net;
using Hookline.Server.Tests.Api;
using Hookline.Server.Tests.Infrastructure;

namespace Hookline.Server.Tests.Sandbox;

/// <summary>What the trigger endpoint refuses, and that a refused trigger publishes nothing and changes nothing.</summary>
public sealed class SandboxApiTests : IAsyncLifetime
{
    private HooklineHost _host = null!;
    private TestAccount _account = null!;

    public async Task InitializeAsync()
    {
        _host = await HooklineHost.StartAsync();
        _account = await _host.CreateAccountAsync();
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Live_keys_cannot_use_the_sandbox()
    {
        await ApiAssert.ErrorAsync(await _account.Live.TriggerRawAsync("""{"event":"payment.captured"}"""), HttpStatusCode.BadRequest, null,
            "The sandbox is available with test-mode keys only.");
        Assert.Equal(0, await _host.CountEventsAsync(_account.Id));
    }

    [Theory]
    [InlineData("""{"event":"payment.exploded"}""", "event", "Invalid event name/names: payment.exploded")]
    [InlineData("""{}""", "event", null)]
    [InlineData("""{"event":7}""", "event", null)]
    [InlineData("""{"event":"payment.captured","amuont":100}""", "amuont", "amuont is not an option of the payment.captured flow.")]
    [InlineData("""{"event":"payment.captured","amount":-5}""", "amount", null)]
    [InlineData("""{"event":"payment.captured","amount":"lots"}""", "amount", null)]
    [InlineData("""{"event":"payment.captured","method":"cheque"}""", "method", "The option method must be one of netbanking, card, upi, wallet.")]
    [InlineData("""{"event":"refund.processed","payment_id":"pay_00000000000000"}""", "payment_id", null)]
    [InlineData("""{"event":"subscription.charged","subscription_id":{"id":1}}""", "subscription_id", null)]
    public async Task Bad_triggers_are_refused_with_the_option_named(string body, string field, string? description)
    {
        await ApiAssert.ErrorAsync(await _account.Test.TriggerRawAsync(body), HttpStatusCode.BadRequest, field, description);
        Assert.Equal(0, await _host.CountEventsAsync(_account.Id));
    }

    [Fact]
    public async Task Entity_of_another_kind_or_account_is_unknown()
    {
        var paymentId = (await _account.Test.TriggerAsync("payment.captured"))[1].Entities["payment"];
        await ApiAssert.ErrorAsync(await _account.Test.TriggerRawAsync($$"""{"event":"order.paid","order_id":"{{paymentId}}"}"""), HttpStatusCode.BadRequest, "order_id");

        var other = await _host.CreateAccountAsync("Other", "ops@other.test");
        var error = await ApiAssert.ErrorAsync(
            await other.Test.TriggerRawAsync($$"""{"event":"refund.created","payment_id":"{{paymentId}}"}"""), HttpStatusCode.BadRequest, "payment_id");
        Assert.Contains("no sandbox payment", error.GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_step_leaves_the_entity_as_it_was()
    {
        var captured = await _account.Test.TriggerAsync("payment.captured", new { amount = 10_000 });
        var paymentId = captured[1].Entities["payment"];

        // Too large a refund is refused; the payment keeps its whole amount refundable.
        await ApiAssert.ErrorAsync(
            await _account.Test.TriggerRawAsync($$"""{"event":"refund.processed","payment_id":"{{paymentId}}","amount":10001}"""), HttpStatusCode.BadRequest, "amount");
        var refund = await _account.Test.TriggerAsync("refund.processed", new { payment_id = paymentId, amount = "10000" });
        Assert.Equal(10_000, refund[1].Entity("refund").GetProperty("amount").GetInt64());
        Assert.Equal("full", refund[1].Entity("payment").GetProperty("refund_status").GetString());
    }

    [Fact]
    public async Task Published_events_are_delivered_to_subscribed_webhooks_and_listed()
    {
        await using var receiver = await TestReceiver.StartAsync();
        await _account.CreateWebhookAsync(new Uri(receiver.Url, "/hooks").ToString(), new[] { "payment.captured", "order.paid" });

        var events = await _account.Test.TriggerAsync("order.paid");

        await receiver.WaitForAsync(2);
        Assert.Equal(new[] { events[1].Id, events[2].Id }.Order(), receiver.Requests.Select(r => r.Header("webhook-id")).Order());
        var listed = await _account.Test.GetJsonAsync("/v1/events?count=10");
        Assert.Equal(events.Select(e => e.Id).Order(), listed.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()).Order());
    }
}
