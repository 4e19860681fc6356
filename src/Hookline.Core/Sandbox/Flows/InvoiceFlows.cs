namespace Hookline.Core.Sandbox.Flows;

/// <summary>
/// Invoices (issued → partially_paid → paid | expired) and payment links (created → partially_paid → paid |
/// cancelled | expired). Both collect through an order, so each payment also publishes its own
/// <c>payment.authorized</c> and <c>payment.captured</c>, and the one that pays in full <c>order.paid</c>.
/// </summary>
internal static class InvoiceFlows
{
    private static readonly string[] Open = ["issued", "partially_paid"];
    private static readonly string[] LinkOpen = ["created", "partially_paid"];

    public static IEnumerable<EntityMachine> Machines()
    {
        yield return new EntityMachine("invoice", "invoice_id", CreateInvoice)
            .On("invoice.partially_paid", Open, "partially_paid", (run, invoice) => PayInvoice(run, invoice, full: false))
            .On("invoice.paid", Open, "paid", (run, invoice) => PayInvoice(run, invoice, full: true))
            .On("invoice.expired", Open, "expired", (run, invoice) =>
            {
                invoice.Body["status"] = "expired";
                invoice.Body["expired_at"] = run.At;
                run.Publish("invoice.expired", invoice);
            });

        yield return new EntityMachine("payment_link", "payment_link_id", CreateLink)
            .On("payment_link.partially_paid", LinkOpen, "partially_paid", (run, link) => PayLink(run, link, full: false))
            .On("payment_link.paid", LinkOpen, "paid", (run, link) => PayLink(run, link, full: true))
            .On("payment_link.cancelled", LinkOpen, "cancelled", (run, link) =>
            {
                link.Body["status"] = "cancelled";
                link.Body["cancelled_at"] = run.At;
                link.Body["updated_at"] = run.At;
                run.Publish("payment_link.cancelled", link);
            })
            .On("payment_link.expired", LinkOpen, "expired", (run, link) =>
            {
                link.Body["status"] = "expired";
                link.Body["expired_at"] = run.At;
                link.Body["updated_at"] = run.At;
                run.Publish("payment_link.expired", link);
            });
    }

    private static SandboxEntity CreateInvoice(SandboxRun run, string eventName)
    {
        var amount = run.Options.Integer("amount", min: 200) ?? 118_000;
        var invoice = run.Create("invoice", "invoice", "inv_", "issued");
        var order = PaymentSteps.NewOrder(run, amount, "INR");
        var number = "INV-" + invoice.Id[^6..].ToUpperInvariant();
        order.Body["receipt"] = number;
        var customerId = run.NewId("cust_");
        var body = invoice.Body;
        var taxable = amount * 100 / 118;
        body["receipt"] = number;
        body["invoice_number"] = number;
        body["customer_id"] = customerId;
        body.Child("customer_details")["id"] = customerId;
        body["order_id"] = order.Id;
        body["expire_by"] = run.At + (14 * 86_400);
        body["issued_at"] = run.At;
        body["date"] = run.At;
        body["gross_amount"] = taxable;
        body["taxable_amount"] = taxable;
        body["tax_amount"] = amount - taxable;
        body["amount"] = amount;
        body["amount_due"] = amount;
        body["short_url"] = "https://pay.example.com/i/" + invoice.Id[^6..];
        body["user_id"] = run.NewId("")[..14];
        return invoice;
    }

    private static void PayInvoice(SandboxRun run, SandboxEntity invoice, bool full)
    {
        var due = invoice.Body.Number("amount_due");
        var part = full ? due : run.Options.Integer("payment_amount", max: due - 1) ?? due / 2;
        var order = run.Get(invoice.Body.Text("order_id"), "order");
        var payment = PaymentSteps.PayOrder(run, order, part, PaymentSteps.Method(run), p =>
        {
            p.Body["invoice_id"] = invoice.Id;
            p.Body["description"] = "Invoice #" + invoice.Id;
        });
        invoice.Body["amount_paid"] = invoice.Body.Number("amount_paid") + part;
        invoice.Body["amount_due"] = due - part;
        invoice.Body["payment_id"] = payment.Id;
        invoice.Body["status"] = full ? "paid" : "partially_paid";
        if (full)
        {
            invoice.Body["paid_at"] = run.At;
        }

        run.Step();
        run.Publish(full ? "invoice.paid" : "invoice.partially_paid", payment, order, invoice);
    }

    private static SandboxEntity CreateLink(SandboxRun run, string eventName)
    {
        var amount = run.Options.Integer("amount", min: 200) ?? 150_000;
        var link = run.Create("payment_link", "payment_link", "plink_");
        var order = PaymentSteps.NewOrder(run, amount, PaymentSteps.Currency(run));
        var body = link.Body;
        body["amount"] = amount;
        body["currency"] = order.Body.Text("currency");
        body["order_id"] = order.Id;
        body["expire_by"] = run.At + (7 * 86_400);
        body["reference_id"] = "SBX-" + link.Id[^6..].ToUpperInvariant();
        body["short_url"] = "https://pay.example.com/l/" + link.Id[^6..];
        body["updated_at"] = run.At;
        body["user_id"] = run.NewId("")[..14];
        return link;
    }

    private static void PayLink(SandboxRun run, SandboxEntity link, bool full)
    {
        var due = link.Body.Number("amount") - link.Body.Number("amount_paid");
        var part = full ? due : run.Options.Integer("payment_amount", min: 100, max: due - 1) ?? due / 2;
        var order = run.Get(link.Body.Text("order_id"), "order");
        var payment = PaymentSteps.PayOrder(run, order, part, PaymentSteps.Method(run, "upi"), p => p.Body["description"] = "Payment link " + link.Id);
        link.Body["amount_paid"] = link.Body.Number("amount_paid") + part;
        link.Body["status"] = full ? "paid" : "partially_paid";
        link.Body["updated_at"] = run.At;
        run.Step();
        run.Publish(full ? "payment_link.paid" : "payment_link.partially_paid", link, order, payment);
    }
}
