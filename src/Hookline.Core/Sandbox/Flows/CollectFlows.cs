namespace Hookline.Core.Sandbox.Flows;

/// <summary>
/// QR codes and Smart Collect virtual accounts: created (active) → credited… → closed. A credit is a captured
/// payment carried in the credit event itself, as Razorpay sends it.
/// </summary>
internal static class CollectFlows
{
    public static IEnumerable<EntityMachine> Machines()
    {
        yield return new EntityMachine("qr_code", "qr_code_id", (run, _) => NewQrCode(run))
            .On("qr_code.created", ["created"], "active", (run, qr) => run.Publish("qr_code.created", qr))
            .On("qr_code.credited", ["active"], null, (run, qr) =>
            {
                var payment = Credit(run, 25_000, "upi", "QR code " + qr.Id);
                qr.Body["payments_amount_received"] = qr.Body.Number("payments_amount_received") + payment.Body.Number("amount");
                qr.Body["payments_count_received"] = qr.Body.Number("payments_count_received") + 1;
                run.Publish("qr_code.credited", payment, qr);
            }, "qr_code.created")
            .On("qr_code.closed", ["active"], "closed", (run, qr) =>
            {
                qr.Body["status"] = "closed";
                qr.Body["closed_at"] = run.At;
                qr.Body["close_reason"] = "on_demand";
                run.Publish("qr_code.closed", qr);
            }, "qr_code.created");

        yield return new EntityMachine("virtual_account", "virtual_account_id", (run, _) => NewVirtualAccount(run))
            .On("virtual_account.created", ["created"], "active", (run, va) => run.Publish("virtual_account.created", va))
            .On("virtual_account.credited", ["active"], null, CreditVirtualAccount, "virtual_account.created")
            .On("virtual_account.closed", ["active"], "closed", (run, va) =>
            {
                va.Body["status"] = "closed";
                va.Body["closed_at"] = run.At;
                run.Publish("virtual_account.closed", va);
            }, "virtual_account.created");
    }

    private static SandboxEntity NewQrCode(SandboxRun run)
    {
        var qr = run.Create("qr_code", "qr_code", "qr_");
        qr.Body["customer_id"] = run.NewId("cust_");
        qr.Body["close_by"] = run.At + (30 * 86_400);
        qr.Body["image_url"] = "https://pay.example.com/q/" + qr.Id[^6..];
        return qr;
    }

    private static SandboxEntity NewVirtualAccount(SandboxRun run)
    {
        var va = run.Create("virtual_account", "virtual_account", "va_");
        va.Body["customer_id"] = run.NewId("cust_");
        var receiver = va.Body["receivers"]!.AsArray()[0]!.AsObject();
        receiver["id"] = run.NewId("ba_");
        receiver["account_number"] = "2223330" + Digits(va.Id, 9);
        return va;
    }

    private static void CreditVirtualAccount(SandboxRun run, SandboxEntity va)
    {
        var upi = run.Options.OneOf("method", "bank_transfer", "upi") == "upi";
        var payment = Credit(run, 100_000, upi ? "upi" : "bank_transfer", "Transfer to " + va.Id);
        var amount = payment.Body.Number("amount");
        va.Body["amount_paid"] = va.Body.Number("amount_paid") + amount;
        var transfer = upi
            ? run.Create("upi_transfer", "upi_transfer", "ut_")
            : run.Create("bank_transfer", "bank_transfer", "bt_");
        transfer.Body["amount"] = amount;
        transfer.Body["payment_id"] = payment.Id;
        transfer.Body["virtual_account_id"] = va.Id;
        transfer.Body[upi ? "rrn" : "bank_reference"] = Digits(transfer.Id, 12);
        run.Publish("virtual_account.credited", payment, va, transfer);
    }

    private static SandboxEntity Credit(SandboxRun run, long fallback, string method, string description)
    {
        var payment = PaymentSteps.NewPayment(run, run.Options.Integer("amount") ?? fallback, "INR", method, null);
        payment.Body["description"] = description;
        if (method == "bank_transfer")
        {
            payment.Body["bank"] = null;
        }

        PaymentSteps.Authorize(run, payment, null);
        PaymentSteps.Capture(payment, null);
        return payment;
    }

    /// <summary>Account numbers and bank references are digits; derive them from an id so they are stable per entity.</summary>
    private static string Digits(string id, int count)
        => string.Concat(id[^count..].Select(c => (char)('0' + (c % 10))));
}
