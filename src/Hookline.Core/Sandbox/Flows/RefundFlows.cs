namespace Hookline.Core.Sandbox.Flows;

/// <summary>Refunds: created (pending) → processed | failed; the payment's refunded amount follows.</summary>
internal static class RefundFlows
{
    public static IEnumerable<EntityMachine> Machines()
    {
        yield return new EntityMachine("refund", "refund_id", Create)
            .On("refund.created", ["created"], "pending", (run, r) => run.Publish("refund.created", r, PaymentOf(run, r)))
            .On("refund.processed", ["pending"], "processed", (run, r) =>
            {
                r.Body["status"] = "processed";
                r.Body.Child("acquirer_data")["arn"] = "74" + run.NewId("")[..12].ToUpperInvariant();
                run.Publish("refund.processed", r, PaymentOf(run, r));
            }, "refund.created")
            .On("refund.failed", ["pending"], "failed", (run, r) =>
            {
                r.Body["status"] = "failed";
                var payment = PaymentOf(run, r);
                Apply(payment, -r.Body.Number("amount"));
                run.Publish("refund.failed", r, payment);
            }, "refund.created")
            .On("refund.speed_changed", ["pending"], null, (run, r) =>
            {
                // An instant refund the bank could not take instantly falls back to normal speed.
                r.Body["speed_processed"] = "normal";
                run.Publish("refund.speed_changed", r, PaymentOf(run, r));
            }, "refund.created");
    }

    private static SandboxEntity Create(SandboxRun run, string eventName)
    {
        var requested = run.Options.Integer("amount");
        var payment = PaymentSteps.CapturedPayment(run, requested);
        var refundable = payment.Body.Number("amount") - payment.Body.Number("amount_refunded");
        if (refundable == 0 || requested > refundable)
        {
            throw new SandboxException($"The payment {payment.Id} has {refundable} left to refund.", requested is null ? "payment_id" : "amount");
        }

        var amount = requested ?? refundable;
        var speed = run.Options.OneOf("speed", "normal", "optimum") ?? (eventName == "refund.speed_changed" ? "optimum" : "normal");
        var refund = run.Create("refund", "refund", "rfnd_");
        refund.Body["amount"] = amount;
        refund.Body["currency"] = payment.Body.Text("currency");
        refund.Body["payment_id"] = payment.Id;
        refund.Body["status"] = "pending";
        refund.Body["speed_requested"] = speed;
        refund.Body["speed_processed"] = speed == "optimum" ? "instant" : "normal";

        // Razorpay counts a refund against the payment when it is created, and gives it back if it fails.
        Apply(payment, amount);
        return refund;
    }

    private static void Apply(SandboxEntity payment, long change)
    {
        var refunded = payment.Body.Number("amount_refunded") + change;
        var full = refunded >= payment.Body.Number("amount");
        payment.Body["amount_refunded"] = refunded;
        payment.Body["refund_status"] = refunded == 0 ? null : full ? "full" : "partial";
        payment.Body["status"] = full ? "refunded" : "captured";
        payment.State = full ? "refunded" : "captured";
    }

    private static SandboxEntity PaymentOf(SandboxRun run, SandboxEntity refund) => run.Get(refund.Body.Text("payment_id"), "payment");
}
