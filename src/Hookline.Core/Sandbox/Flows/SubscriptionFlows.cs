namespace Hookline.Core.Sandbox.Flows;

/// <summary>
/// Subscriptions: created → authenticated → active → charged… → completed | pending → halted, active ↔ paused,
/// cancelled from any live state. Each charge is a card payment carried in <c>subscription.charged</c>; the
/// sandbox does not repeat it as <c>payment.*</c> events.
/// </summary>
internal static class SubscriptionFlows
{
    private const long Month = 30 * 86_400;
    private static readonly string[] Live = ["created", "authenticated", "active", "pending", "halted", "paused"];

    public static IEnumerable<EntityMachine> Machines()
    {
        yield return new EntityMachine("subscription", "subscription_id", Create)
            .On("subscription.authenticated", ["created"], "authenticated", (run, s) => Set(run, s, "authenticated", "subscription.authenticated"))
            .On("subscription.activated", ["authenticated"], "active", (run, s) =>
            {
                s.Body["start_at"] = run.At;
                s.Body["charge_at"] = run.At;
                Set(run, s, "active", "subscription.activated");
            }, "subscription.authenticated")
            .On("subscription.charged", ["active"], null, (run, s) => Charge(run, s), "subscription.authenticated", "subscription.activated")
            .On("subscription.completed", ["active"], "completed", (run, s) =>
            {
                while (s.State != "completed")
                {
                    Charge(run, s);
                    run.Step();
                }
            }, "subscription.authenticated", "subscription.activated")
            .On("subscription.pending", ["active"], "pending", (run, s) =>
            {
                s.Body["auth_attempts"] = s.Body.Number("auth_attempts") + 1;
                Set(run, s, "pending", "subscription.pending");
            }, "subscription.authenticated", "subscription.activated", "subscription.charged")
            .On("subscription.halted", ["pending"], "halted", (run, s) =>
            {
                s.Body["charge_at"] = null;
                Set(run, s, "halted", "subscription.halted");
            }, "subscription.authenticated", "subscription.activated", "subscription.charged", "subscription.pending")
            .On("subscription.paused", ["active"], "paused", (run, s) =>
            {
                s.Body["pause_initiated_by"] = "self";
                Set(run, s, "paused", "subscription.paused");
            }, "subscription.authenticated", "subscription.activated")
            .On("subscription.resumed", ["paused"], "active", (run, s) =>
            {
                s.Body["pause_initiated_by"] = null;
                Set(run, s, "active", "subscription.resumed");
            }, "subscription.authenticated", "subscription.activated", "subscription.paused")
            .On("subscription.cancelled", Live, "cancelled", (run, s) =>
            {
                s.Body["ended_at"] = run.At;
                s.Body["charge_at"] = null;
                Set(run, s, "cancelled", "subscription.cancelled");
            }, "subscription.authenticated", "subscription.activated")
            .On("subscription.updated", ["authenticated", "active"], null, (run, s) =>
            {
                s.Body["quantity"] = run.Options.Integer("quantity", max: 1000) ?? s.Body.Number("quantity") + 1;
                run.Publish("subscription.updated", s);
            }, "subscription.authenticated", "subscription.activated");
    }

    private static SandboxEntity Create(SandboxRun run, string eventName)
    {
        var total = run.Options.Integer("total_count", max: 120) ?? (eventName == "subscription.completed" ? 2 : 6);
        var subscription = run.Create("subscription", "subscription", "sub_");
        subscription.Facts["amount"] = run.Options.Integer("amount") ?? 49_900;
        var body = subscription.Body;
        body["plan_id"] = run.NewId("plan_");
        body["customer_id"] = run.NewId("cust_");
        body["offer_id"] = run.NewId("offer_");
        body["start_at"] = run.At;
        body["end_at"] = run.At + (total * Month);
        body["expire_by"] = run.At + (7 * 86_400);
        body["total_count"] = total;
        body["remaining_count"] = total;
        return subscription;
    }

    /// <summary>Charges one cycle; the last one completes the subscription and is published as <c>subscription.completed</c>.</summary>
    private static void Charge(SandboxRun run, SandboxEntity subscription)
    {
        var body = subscription.Body;
        var payment = PaymentSteps.NewPayment(run, subscription.Facts.Number("amount"), "INR", "card", null);
        var cycle = body.Number("paid_count") + 1;
        payment.Body["description"] = $"Subscription {subscription.Id}, cycle {cycle}";
        PaymentSteps.Authorize(run, payment, null);
        PaymentSteps.Capture(payment, null);

        var remaining = body.Number("remaining_count") - 1;
        body["paid_count"] = cycle;
        body["remaining_count"] = remaining;
        body["auth_attempts"] = 0;
        body["current_start"] = run.At;
        body["current_end"] = run.At + Month;
        body["charge_at"] = remaining == 0 ? null : run.At + Month;
        if (remaining == 0)
        {
            body["status"] = "completed";
            body["ended_at"] = run.At;
            subscription.State = "completed";
            run.Publish("subscription.completed", subscription, payment);
            return;
        }

        body["status"] = "active";
        subscription.State = "active";
        run.Publish("subscription.charged", subscription, payment);
    }

    private static void Set(SandboxRun run, SandboxEntity subscription, string status, string eventName)
    {
        subscription.Body["status"] = status;
        run.Publish(eventName, subscription);
    }
}
