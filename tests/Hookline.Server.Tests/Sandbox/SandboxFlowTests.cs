using System.Net;
using System.Text.Json;
using Hookline.Server.Tests.Api;
using Hookline.Server.Tests.Infrastructure;

namespace Hookline.Server.Tests.Sandbox;

/// <summary>Flows through the state machines of DESIGN §6: events in order, one set of ids, each snapshot as of its event.</summary>
public sealed class SandboxFlowTests : IAsyncLifetime
{
    private HooklineHost _host = null!;
    private TestAccount _account = null!;

    public async Task InitializeAsync()
    {
        _host = await HooklineHost.StartAsync(new Dictionary<string, string?> { ["Limits:ValidatePayloads"] = null });
        _account = await _host.CreateAccountAsync();
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Order_paid_is_authorized_then_captured_then_paid_for_one_order_and_payment()
    {
        var events = await _account.Test.TriggerAsync("order.paid", new { amount = 75_000 });

        Assert.Equal(["payment.authorized", "payment.captured", "order.paid"], events.Select(e => e.Event));
        var paymentId = events[0].Entities["payment"];
        var orderId = events[2].Entities["order"];
        Assert.All(events, e => Assert.Equal(paymentId, e.Entity("payment").GetProperty("id").GetString()));
        Assert.All(events, e => Assert.Equal(orderId, e.Entity("payment").GetProperty("order_id").GetString()));
        Assert.All(events, e => Assert.Equal(75_000, e.Entity("payment").GetProperty("amount").GetInt64()));

        Assert.Equal("authorized", events[0].Status("payment"));
        Assert.False(events[0].Entity("payment").GetProperty("captured").GetBoolean());
        Assert.Equal(JsonValueKind.Null, events[0].Entity("payment").GetProperty("fee").ValueKind);
        Assert.Equal("captured", events[1].Status("payment"));
        Assert.True(events[1].Entity("payment").GetProperty("captured").GetBoolean());
        Assert.True(events[1].Entity("payment").GetProperty("fee").GetInt64() > 0);

        var order = events[2].Entity("order");
        Assert.Equal("paid", order.GetProperty("status").GetString());
        Assert.Equal(75_000, order.GetProperty("amount_paid").GetInt64());
        Assert.Equal(0, order.GetProperty("amount_due").GetInt64());
        Assert.Equal(1, order.GetProperty("attempts").GetInt32());
        Assert.Equal(["payment", "order"], events[2].Envelope.GetProperty("contains").EnumerateArray().Select(c => c.GetString()));
    }

    [Fact]
    public async Task Failed_payment_carries_its_error_and_leaves_the_order_open_for_another_attempt()
    {
        var orderId = (await _account.Test.TriggerAsync("order.created")).Single().Entities["order"];

        var failed = Assert.Single(await _account.Test.TriggerAsync("payment.failed", new { order_id = orderId, method = "upi" }));
        Assert.Equal("payment.failed", failed.Event);
        var payment = failed.Entity("payment");
        Assert.Equal("failed", payment.GetProperty("status").GetString());
        Assert.Equal(orderId, payment.GetProperty("order_id").GetString());
        Assert.Equal("upi", payment.GetProperty("method").GetString());
        Assert.Equal("BAD_REQUEST_ERROR", payment.GetProperty("error_code").GetString());
        Assert.Equal("payment_cancelled", payment.GetProperty("error_reason").GetString());
        Assert.False(payment.GetProperty("captured").GetBoolean());

        var paid = await _account.Test.TriggerAsync("order.paid", new { order_id = orderId });
        Assert.Equal(["payment.authorized", "payment.captured", "order.paid"], paid.Select(e => e.Event));
        Assert.NotEqual(failed.Entities["payment"], paid[0].Entities["payment"]);
        Assert.Equal(2, paid[2].Entity("order").GetProperty("attempts").GetInt32());
    }

    [Fact]
    public async Task Refunds_of_one_payment_are_processed_or_failed_and_the_payment_follows()
    {
        var captured = await _account.Test.TriggerAsync("payment.captured", new { amount = 50_000 });
        Assert.Equal(["payment.authorized", "payment.captured"], captured.Select(e => e.Event));
        var paymentId = captured[1].Entities["payment"];

        var processed = await _account.Test.TriggerAsync("refund.processed", new { payment_id = paymentId, amount = 20_000 });
        Assert.Equal(["refund.created", "refund.processed"], processed.Select(e => e.Event));
        var refundId = processed[0].Entities["refund"];
        Assert.Equal(refundId, processed[1].Entities["refund"]);
        Assert.Equal("pending", processed[0].Status("refund"));
        Assert.Equal("processed", processed[1].Status("refund"));
        Assert.All(processed, e => Assert.Equal(paymentId, e.Entity("refund").GetProperty("payment_id").GetString()));
        Assert.All(processed, e => Assert.Equal(20_000, e.Entity("payment").GetProperty("amount_refunded").GetInt64()));
        Assert.Equal("partial", processed[1].Entity("payment").GetProperty("refund_status").GetString());

        var failed = await _account.Test.TriggerAsync("refund.failed", new { payment_id = paymentId });
        Assert.Equal(["refund.created", "refund.failed"], failed.Select(e => e.Event));
        Assert.Equal(30_000, failed[0].Entity("refund").GetProperty("amount").GetInt64());
        Assert.Equal(50_000, failed[0].Entity("payment").GetProperty("amount_refunded").GetInt64());
        Assert.Equal("refunded", failed[0].Status("payment"));
        Assert.Equal("failed", failed[1].Status("refund"));
        Assert.Equal(20_000, failed[1].Entity("payment").GetProperty("amount_refunded").GetInt64());
        Assert.Equal("captured", failed[1].Status("payment"));

        // The refund that was processed cannot fail afterwards.
        await ApiAssert.ErrorAsync(
            await _account.Test.TriggerRawAsync($$"""{"event":"refund.failed","refund_id":"{{refundId}}"}"""), HttpStatusCode.BadRequest, "refund_id",
            $"The refund {refundId} is processed; refund.failed needs it to be pending.");
    }

    [Fact]
    public async Task Dispute_lost_is_opened_reviewed_and_lost_with_the_amount_deducted()
    {
        var events = await _account.Test.TriggerAsync("payment.dispute.lost");

        Assert.Equal(["payment.dispute.created", "payment.dispute.under_review", "payment.dispute.lost"], events.Select(e => e.Event));
        var disputeId = events[0].Entities["dispute"];
        var paymentId = events[0].Entities["payment"];
        Assert.All(events, e => Assert.Equal(disputeId, e.Entities["dispute"]));
        Assert.All(events, e => Assert.Equal(paymentId, e.Entity("dispute").GetProperty("payment_id").GetString()));
        Assert.Equal(["open", "under_review", "lost"], events.Select(e => e.Status("dispute")));
        var amount = events[0].Entity("dispute").GetProperty("amount").GetInt64();
        Assert.Equal([0, 0, amount], events.Select(e => e.Entity("dispute").GetProperty("amount_deducted").GetInt64()));
        Assert.Equal(JsonValueKind.Null, events[0].Entity("dispute").GetProperty("evidence").GetProperty("submitted_at").ValueKind);
        Assert.Equal(JsonValueKind.Number, events[1].Entity("dispute").GetProperty("evidence").GetProperty("submitted_at").ValueKind);

        var closed = Assert.Single(await _account.Test.TriggerAsync("payment.dispute.closed", new { dispute_id = disputeId }));
        Assert.Equal("closed", closed.Status("dispute"));
    }

    [Fact]
    public async Task Invoice_is_partially_paid_then_paid_through_its_order()
    {
        var partial = await _account.Test.TriggerAsync("invoice.partially_paid", new { amount = 100_000, payment_amount = 40_000 });
        Assert.Equal(["payment.authorized", "payment.captured", "invoice.partially_paid"], partial.Select(e => e.Event));
        var invoice = partial[2].Entity("invoice");
        var invoiceId = invoice.GetProperty("id").GetString()!;
        var orderId = invoice.GetProperty("order_id").GetString()!;
        Assert.Equal("partially_paid", invoice.GetProperty("status").GetString());
        Assert.Equal((40_000, 60_000), (invoice.GetProperty("amount_paid").GetInt64(), invoice.GetProperty("amount_due").GetInt64()));
        Assert.Equal("attempted", partial[2].Status("order"));
        Assert.Equal(invoiceId, partial[2].Entity("payment").GetProperty("invoice_id").GetString());

        var paid = await _account.Test.TriggerAsync("invoice.paid", new { invoice_id = invoiceId });
        Assert.Equal(["payment.authorized", "payment.captured", "order.paid", "invoice.paid"], paid.Select(e => e.Event));
        var settled = paid[3].Entity("invoice");
        Assert.Equal(invoiceId, settled.GetProperty("id").GetString());
        Assert.Equal("paid", settled.GetProperty("status").GetString());
        Assert.Equal((100_000, 0), (settled.GetProperty("amount_paid").GetInt64(), settled.GetProperty("amount_due").GetInt64()));
        Assert.Equal(JsonValueKind.Number, settled.GetProperty("paid_at").ValueKind);
        Assert.Equal(60_000, paid[3].Entity("payment").GetProperty("amount").GetInt64());
        Assert.NotEqual(partial[2].Entities["payment"], paid[3].Entities["payment"]);
        Assert.Equal(orderId, paid[3].Entities["order"]);
        Assert.Equal("paid", paid[3].Status("order"));

        await ApiAssert.ErrorAsync(await _account.Test.TriggerRawAsync($$"""{"event":"invoice.expired","invoice_id":"{{invoiceId}}"}"""), HttpStatusCode.BadRequest, "invoice_id");
    }

    [Fact]
    public async Task Subscription_goes_from_authenticated_through_charged_to_halted()
    {
        var events = await _account.Test.TriggerAsync("subscription.halted", new { amount = 29_900 });

        Assert.Equal(
            ["subscription.authenticated", "subscription.activated", "subscription.charged", "subscription.pending", "subscription.halted"],
            events.Select(e => e.Event));
        var subscriptionId = events[0].Entities["subscription"];
        Assert.All(events, e => Assert.Equal(subscriptionId, e.Entities["subscription"]));
        Assert.Equal(["authenticated", "active", "active", "pending", "halted"], events.Select(e => e.Status("subscription")));
        Assert.Equal([0, 0, 1, 1, 1], events.Select(e => e.Entity("subscription").GetProperty("paid_count").GetInt32()));

        var charge = events[2].Entity("payment");
        Assert.Equal(("captured", 29_900), (charge.GetProperty("status").GetString(), charge.GetProperty("amount").GetInt64()));
        Assert.Equal(["subscription", "payment"], events[2].Envelope.GetProperty("contains").EnumerateArray().Select(c => c.GetString()));

        var cancelled = Assert.Single(await _account.Test.TriggerAsync("subscription.cancelled", new { subscription_id = subscriptionId }));
        Assert.Equal("cancelled", cancelled.Status("subscription"));
        await ApiAssert.ErrorAsync(
            await _account.Test.TriggerRawAsync($$"""{"event":"subscription.cancelled","subscription_id":"{{subscriptionId}}"}"""), HttpStatusCode.BadRequest, "subscription_id");
    }

    [Fact]
    public async Task Subscription_completes_after_its_last_cycle()
    {
        var events = await _account.Test.TriggerAsync("subscription.completed", new { total_count = 3 });

        Assert.Equal(
            ["subscription.authenticated", "subscription.activated", "subscription.charged", "subscription.charged", "subscription.completed"],
            events.Select(e => e.Event));
        var last = events[^1].Entity("subscription");
        Assert.Equal((3, 0), (last.GetProperty("paid_count").GetInt32(), last.GetProperty("remaining_count").GetInt32()));
        Assert.Equal(3, events.Where(e => e.Entities.ContainsKey("payment")).Select(e => e.Entities["payment"]).Distinct().Count());
    }

    [Fact]
    public async Task Token_is_confirmed_paused_then_cancelled()
    {
        var paused = await _account.Test.TriggerAsync("token.paused");
        Assert.Equal(["token.confirmed", "token.paused"], paused.Select(e => e.Event));
        var tokenId = paused[0].Entities["token"];
        Assert.Equal(tokenId, paused[1].Entities["token"]);
        Assert.Equal(["confirmed", "paused"], paused.Select(RecurringStatus));
        Assert.Equal("upi", paused[1].Entity("token").GetProperty("method").GetString());

        var cancelled = Assert.Single(await _account.Test.TriggerAsync("token.cancelled", new { token_id = tokenId }));
        Assert.Equal("cancelled", RecurringStatus(cancelled));
        Assert.Equal(tokenId, cancelled.Entities["token"]);

        await ApiAssert.ErrorAsync(
            await _account.Test.TriggerRawAsync($$"""{"event":"token.resumed","token_id":"{{tokenId}}"}"""), HttpStatusCode.BadRequest, "token_id",
            $"The token {tokenId} is cancelled; token.resumed needs it to be paused.");
    }

    [Fact]
    public async Task Payout_is_processed_then_reversed()
    {
        var processed = await _account.Test.TriggerAsync("payout.processed", new { amount = 125_000, mode = "NEFT" });
        Assert.Equal(["payout.initiated", "payout.processed"], processed.Select(e => e.Event));
        var payoutId = processed[0].Entities["payout"];
        Assert.Equal(["processing", "processed"], processed.Select(e => e.Status("payout")));
        Assert.Equal(JsonValueKind.Null, processed[0].Entity("payout").GetProperty("utr").ValueKind);
        var utr = processed[1].Entity("payout").GetProperty("utr").GetString();
        Assert.False(string.IsNullOrEmpty(utr));

        var reversed = Assert.Single(await _account.Test.TriggerAsync("payout.reversed", new { payout_id = payoutId }));
        var payout = reversed.Entity("payout");
        Assert.Equal((payoutId, "reversed"), (payout.GetProperty("id").GetString(), payout.GetProperty("status").GetString()));
        Assert.Equal((125_000, "NEFT", utr), (payout.GetProperty("amount").GetInt64(), payout.GetProperty("mode").GetString(), payout.GetProperty("utr").GetString()));
        Assert.Equal("beneficiary_bank_rejected", payout.GetProperty("status_details").GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Ids_have_Razorpay_forms()
    {
        var ids = new List<string>();
        foreach (var name in new[] { "order.paid", "refund.processed", "subscription.charged", "invoice.paid", "token.confirmed", "payment.dispute.created",
                     "payment_link.paid", "virtual_account.credited", "qr_code.credited", "payout.processed", "payout_link.issued", "transfer.processed" })
        {
            ids.AddRange((await _account.Test.TriggerAsync(name)).SelectMany(e => e.Entities.Values));
        }

        foreach (var prefix in new[] { "pay_", "order_", "rfnd_", "sub_", "inv_", "token_", "disp_", "plink_", "va_", "bt_", "qr_", "pout_", "poutlk_", "trf_" })
        {
            var id = ids.FirstOrDefault(i => i.StartsWith(prefix, StringComparison.Ordinal));
            ApiAssert.IsId(prefix, id);
        }
    }

    private static string RecurringStatus(Published e) => e.Entity("token").GetProperty("recurring_details").GetProperty("status").GetString()!;
}
