using System.Text.Json.Nodes;

namespace Hookline.Core.Sandbox.Flows;

/// <summary>
/// Orders and payments as the other flows need them: created, authorised, captured (with fee and tax) or failed,
/// and the order's amounts and attempts kept in step with its payments.
/// </summary>
internal static class PaymentSteps
{
    public const long DefaultAmount = 50_000;
    public static readonly string[] Methods = ["netbanking", "card", "upi", "wallet"];
    private static readonly string[] Currencies = ["INR", "USD", "EUR", "GBP", "SGD", "AED"];

    public static string Currency(SandboxRun run) => run.Options.OneOf("currency", Currencies) ?? "INR";

    public static string Method(SandboxRun run, string fallback = "netbanking") => run.Options.OneOf("method", Methods) ?? fallback;

    public static SandboxEntity NewOrder(SandboxRun run, long amount, string currency)
    {
        var order = run.Create("order", "order", "order_");
        order.Body["amount"] = amount;
        order.Body["amount_due"] = amount;
        order.Body["currency"] = currency;
        order.Body["receipt"] = "rcpt_" + order.Id[^8..];
        return order;
    }

    public static SandboxEntity NewPayment(SandboxRun run, long amount, string currency, string method, SandboxEntity? order)
    {
        var payment = run.Create("payment", "payment", "pay_");
        var body = payment.Body;
        body["amount"] = amount;
        body["base_amount"] = amount;
        body["currency"] = currency;
        body["order_id"] = order?.Id;
        body["method"] = method;
        body["international"] = currency != "INR";
        switch (method)
        {
            case "card":
                var cardId = run.NewId("card_");
                body["card_id"] = cardId;
                body["bank"] = null;
                body.Insert(body.IndexOf("bank"), "card", new JsonObject
                {
                    ["id"] = cardId, ["entity"] = "card", ["name"] = "Asha Menon", ["last4"] = "1111", ["network"] = "Visa",
                    ["type"] = "credit", ["issuer"] = "HDFC", ["international"] = false, ["emi"] = false, ["sub_type"] = "consumer",
                });
                break;
            case "upi":
                body["bank"] = null;
                body["vpa"] = "asha.menon@okicici";
                body["upi"] = new JsonObject { ["payer_account_type"] = "bank_account", ["vpa"] = "asha.menon@okicici" };
                break;
            case "wallet":
                body["bank"] = null;
                body["wallet"] = "paytm";
                break;
            case "cod":
                body["bank"] = null;
                break;
        }

        return payment;
    }

    public static void Authorize(SandboxRun run, SandboxEntity payment, SandboxEntity? order)
    {
        payment.Body["status"] = "authorized";
        payment.Body.Child("acquirer_data")["bank_transaction_id"] = run.NewId("")[..10].ToUpperInvariant();
        payment.State = "authorized";
        if (order is not null)
        {
            order.Body["attempts"] = order.Body.Number("attempts") + 1;
            order.Body["status"] = "attempted";
            order.State = "attempted";
        }
    }

    /// <summary>Captures the payment; returns true when that paid its order in full.</summary>
    public static bool Capture(SandboxEntity payment, SandboxEntity? order)
    {
        var amount = payment.Body.Number("amount");
        var fee = Math.Max(1, amount * 2 / 100);
        var tax = fee * 18 / 100;
        payment.Body["status"] = "captured";
        payment.Body["captured"] = true;
        payment.Body["fee"] = fee + tax;
        payment.Body["tax"] = tax;
        payment.State = "captured";
        if (order is null)
        {
            return false;
        }

        var paid = order.Body.Number("amount_paid") + amount;
        order.Body["amount_paid"] = paid;
        order.Body["amount_due"] = order.Body.Number("amount") - paid;
        var full = paid >= order.Body.Number("amount");
        order.Body["status"] = full ? "paid" : "attempted";
        order.State = full ? "paid" : "attempted";
        return full;
    }

    public static void Fail(SandboxEntity payment, SandboxEntity? order)
    {
        var body = payment.Body;
        body["status"] = "failed";
        body["error_code"] = "BAD_REQUEST_ERROR";
        body["error_description"] = "The customer cancelled the payment at the bank page.";
        body["error_source"] = "customer";
        body["error_step"] = "payment_authentication";
        body["error_reason"] = "payment_cancelled";
        payment.State = "failed";
        if (order is not null)
        {
            order.Body["attempts"] = order.Body.Number("attempts") + 1;
            order.Body["status"] = "attempted";
            order.State = "attempted";
        }
    }

    /// <summary>Authorises and captures a payment on an order, publishing both events (and <c>order.paid</c> when it pays the order).</summary>
    public static SandboxEntity PayOrder(SandboxRun run, SandboxEntity order, long amount, string method, Action<SandboxEntity>? describe = null)
    {
        var payment = NewPayment(run, amount, order.Body.Text("currency"), method, order);
        describe?.Invoke(payment);
        Authorize(run, payment, order);
        run.Publish("payment.authorized", payment);
        run.Step();
        var paid = Capture(payment, order);
        run.Publish("payment.captured", payment);
        if (paid)
        {
            run.Step();
            run.Publish("order.paid", payment, order);
        }

        return payment;
    }

    /// <summary>
    /// A payment captured before this trigger, made silently: the entity that a refund, dispute or transfer
    /// acts on when the trigger does not name one. Its own events belong to an earlier, separate flow.
    /// </summary>
    public static SandboxEntity EarlierCapturedPayment(SandboxRun run, long amount, string currency, string method = "card")
    {
        var payment = NewPayment(run, amount, currency, method, null);
        payment.Body["created_at"] = run.At - 86_400;
        Authorize(run, payment, null);
        Capture(payment, null);
        return payment;
    }

    /// <summary>
    /// The payment named by the option <c>payment_id</c>, which must be captured, or else an earlier captured
    /// payment of at least <paramref name="atLeast"/>.
    /// </summary>
    public static SandboxEntity CapturedPayment(SandboxRun run, long? atLeast)
    {
        var existing = run.FromOption("payment_id", "payment");
        if (existing is null)
        {
            return EarlierCapturedPayment(run, Math.Max(DefaultAmount, atLeast ?? 0), Currency(run));
        }

        return existing.State is "captured" or "refunded"
            ? existing
            : throw new SandboxException($"The payment {existing.Id} is {existing.State}; only a captured payment can be used here.", "payment_id");
    }
}
