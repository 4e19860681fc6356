using System.Text.Json.Nodes;

namespace Hookline.Core.Sandbox.Flows;

/// <summary>
/// Route: transfers of a captured payment to a linked account, settlements, and the activation of a
/// sub-merchant's products (under_review → needs_clarification → activated | activated_kyc_pending | rejected).
/// </summary>
internal static class RouteFlows
{
    /// <summary>The product events by family; <c>product.payment_link.rejected</c> really is singular in Razorpay's list.</summary>
    private static readonly (string Family, (string Status, string Event)[] Events)[] Products =
    [
        ("payment_gateway", [.. new[] { "under_review", "needs_clarification", "activated", "activated_kyc_pending", "instantly_activated", "rejected" }.Select(s => (s, "product.payment_gateway." + s))]),
        ("payment_links", [.. new[] { "under_review", "needs_clarification", "activated", "activated_kyc_pending" }.Select(s => (s, "product.payment_links." + s)), ("rejected", "product.payment_link.rejected")]),
        ("route", [.. new[] { "under_review", "needs_clarification", "activated" }.Select(s => (s, "product.route." + s))]),
    ];

    public static IEnumerable<EntityMachine> Machines()
    {
        yield return new EntityMachine("transfer", "transfer_id", (run, _) => NewTransfer(run))
            .On("transfer.processed", ["created"], "processed", (run, t) =>
            {
                t.Body["status"] = "processed";
                t.Body["processed_at"] = run.At;
                var payment = run.Get(t.Body.Text("source"), "payment");
                payment.Body["amount_transferred"] = payment.Body.Number("amount_transferred") + t.Body.Number("amount");
                run.Publish("transfer.processed", t);
            })
            .On("transfer.failed", ["created"], "failed", (run, t) =>
            {
                t.Body["status"] = "failed";
                t.Body["error"] = new JsonObject
                {
                    ["code"] = "BAD_REQUEST_ERROR", ["description"] = "The linked account is not activated yet.", ["reason"] = "linked_account_not_activated",
                    ["field"] = null, ["step"] = "transfer_processing", ["id"] = t.Id, ["source"] = "business", ["metadata"] = null,
                };
                run.Publish("transfer.failed", t);
            });

        yield return new EntityMachine("settlement", "settlement_id", (run, _) =>
            {
                var settlement = run.Create("settlement", "settlement", "setl_");
                var amount = run.Options.Integer("amount") ?? 1_250_000;
                settlement.Body["amount"] = amount;
                settlement.Body["fees"] = amount / 500;
                settlement.Body["tax"] = amount / 500 * 18 / 100;
                settlement.Body["utr"] = "SBXN" + settlement.Id[^10..].ToUpperInvariant();
                return settlement;
            })
            .On("settlement.processed", ["created"], "processed", (run, s) =>
            {
                s.Body["status"] = "processed";
                run.Publish("settlement.processed", s);
            });

        foreach (var (family, events) in Products)
        {
            var byStatus = events.ToDictionary(e => e.Status, e => e.Event, StringComparer.Ordinal);
            var machine = new EntityMachine("merchant_product", "product_id", (run, _) =>
            {
                var product = run.Create("merchant_product", "merchant_product", "acc_prd_");
                product.Body["merchant_id"] = run.Options.Text("sub_account_id") ?? run.NewId("acc_");
                product.Facts["family"] = family;
                return product;
            });
            foreach (var (status, name) in events)
            {
                var (from, path) = status switch
                {
                    "under_review" => (new[] { "created", "needs_clarification" }, Array.Empty<string>()),
                    "instantly_activated" => (["created"], []),
                    "activated" => (["under_review", "needs_clarification", "activated_kyc_pending"], [byStatus["under_review"]]),
                    _ => (["under_review", "needs_clarification"], [byStatus["under_review"]]),
                };
                machine.On(name, from, status, (run, product) =>
                {
                    if (product.Facts.Text("family") != family)
                    {
                        throw new SandboxException($"The product {product.Id} is a {product.Facts.Text("family")} product, not {family}.", "product_id");
                    }

                    product.Body["activation_status"] = status;
                    run.Publish(name, product);
                }, path);
            }

            yield return machine;
        }
    }

    private static SandboxEntity NewTransfer(SandboxRun run)
    {
        var requested = run.Options.Integer("amount");
        var payment = PaymentSteps.CapturedPayment(run, requested);
        var transferable = payment.Body.Number("amount") - payment.Body.Number("amount_transferred") - payment.Body.Number("amount_refunded");
        if (transferable <= 0 || requested > transferable)
        {
            throw new SandboxException($"The payment {payment.Id} has {Math.Max(0, transferable)} left to transfer.", requested is null ? "payment_id" : "amount");
        }

        var transfer = run.Create("transfer", "transfer", "trf_");
        transfer.Body["source"] = payment.Id;
        transfer.Body["recipient"] = run.Options.Text("recipient") ?? run.NewId("acc_");
        transfer.Body["amount"] = requested ?? transferable;
        transfer.Body["currency"] = payment.Body.Text("currency");
        transfer.Body["fees"] = 0;
        return transfer;
    }
}
