using System.Text.Json.Nodes;

namespace Hookline.Core.Sandbox.Flows;

/// <summary>Payments (created → authorized → captured | failed), orders (created → attempted → paid) and their notices.</summary>
internal static class PaymentFlows
{
    private static readonly string[] Fulfillment = ["to_be_shipped", "ready_to_ship", "in_transit", "delivered", "rto", "customer_refunded"];

    public static IEnumerable<EntityMachine> Machines()
    {
        yield return new EntityMachine("payment", "payment_id", CreatePayment)
            .On("payment.authorized", ["created"], "authorized", (run, p) =>
            {
                PaymentSteps.Authorize(run, p, OrderOf(run, p));
                run.Publish("payment.authorized", p);
            })
            .On("payment.captured", ["authorized"], "captured", (run, p) =>
            {
                var order = OrderOf(run, p);
                var paid = PaymentSteps.Capture(p, order);
                run.Publish("payment.captured", p);
                if (paid)
                {
                    run.Step();
                    run.Publish("order.paid", p, order!);
                }
            }, "payment.authorized")
            .On("payment.failed", ["created"], "failed", (run, p) =>
            {
                PaymentSteps.Fail(p, OrderOf(run, p));
                run.Publish("payment.failed", p);
            })
            .On("payment.pending", ["created"], "pending", (run, p) =>
            {
                p.Body["status"] = "pending";
                run.Publish("payment.pending", p);
            });

        var order = new EntityMachine("order", "order_id", (run, name) => PaymentSteps.NewOrder(run, run.Options.Integer("amount") ?? PaymentSteps.DefaultAmount, PaymentSteps.Currency(run)))
            .On("order.created", ["created"], "created", (run, o) => run.Publish("order.created", o))
            .On("order.placed", ["created"], "placed", (run, o) =>
            {
                o.Body["status"] = "placed";
                run.Publish("order.placed", o);
            })
            .On("order.expired", ["created", "attempted"], "expired", (run, o) =>
            {
                o.Body["status"] = "expired";
                run.Publish("order.expired", o);
            })
            .On("order.paid", ["created", "attempted"], "paid", (run, o) => PaymentSteps.PayOrder(run, o, o.Body.Number("amount_due"), PaymentSteps.Method(run)));
        foreach (var stage in Fulfillment)
        {
            var name = "fulfillment." + stage;
            order.On(name, ["placed", "paid"], null, (run, o) =>
            {
                o.Facts["fulfillment"] = stage;
                run.Publish(name, o);
            }, "order.placed");
        }

        yield return order;
    }

    /// <summary>Pre-debit notices of recurring charges: they need a confirmed mandate and the order it will debit.</summary>
    public static IEnumerable<(string Event, Action<SandboxRun> Flow)> Single()
    {
        foreach (var outcome in new[] { "delivered", "failed" })
        {
            var name = "order.notification." + outcome;
            yield return (name, run =>
            {
                var token = TokenFlows.ConfirmedMandate(run);
                var order = PaymentSteps.NewOrder(run, run.Options.Integer("amount") ?? PaymentSteps.DefaultAmount, "INR");
                order.Body["notes"] = new JsonObject { ["token_id"] = token.Id };
                var notice = run.Create("notification", "notification", "notification_");
                notice.Body["order_id"] = order.Id;
                notice.Body["token_id"] = token.Id;
                notice.Body["status"] = outcome;
                notice.Body["delivered_at"] = outcome == "delivered" ? run.At : null;
                notice.Body["payment_after"] = run.At + 86_400;
                notice.State = outcome;
                run.Publish(name, notice);
            });
        }
    }

    private static SandboxEntity CreatePayment(SandboxRun run, string eventName)
    {
        var order = run.FromOption("order_id", "order");
        if (order is not null && order.State is not ("created" or "attempted"))
        {
            throw new SandboxException($"The order {order.Id} is {order.State}; a new payment needs it to be created or attempted.", "order_id");
        }

        var due = order?.Body.Number("amount_due");
        var amount = run.Options.Integer("amount", max: due ?? 100_000_000_000) ?? due ?? PaymentSteps.DefaultAmount;
        var currency = order?.Body.Text("currency") ?? PaymentSteps.Currency(run);
        var method = eventName == "payment.pending" ? "cod" : PaymentSteps.Method(run);
        return PaymentSteps.NewPayment(run, amount, currency, method, order);
    }

    private static SandboxEntity? OrderOf(SandboxRun run, SandboxEntity payment)
        => payment.Body.TextOrNull("order_id") is { } id ? run.Get(id, "order") : null;
}
