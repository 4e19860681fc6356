using System.Text.Json.Nodes;

namespace Hookline.Core.Sandbox.Flows;

/// <summary>Disputes: created (open) → under_review | action_required → won | lost → closed.</summary>
internal static class DisputeFlows
{
    private static readonly string[] Decided = ["won", "lost"];

    public static IEnumerable<EntityMachine> Machines()
    {
        yield return new EntityMachine("dispute", "dispute_id", Create)
            .On("payment.dispute.created", ["created"], "open", (run, d) => Publish(run, "payment.dispute.created", d))
            .On("payment.dispute.action_required", ["open", "under_review"], "action_required", (run, d) =>
            {
                d.Body["status"] = "open";
                d.Body["respond_by"] = run.At + (3 * 86_400);
                Publish(run, "payment.dispute.action_required", d);
            }, "payment.dispute.created")
            .On("payment.dispute.under_review", ["open", "action_required"], "under_review", (run, d) =>
            {
                var evidence = d.Body.Child("evidence");
                evidence["summary"] = "The order was delivered; the courier's proof of delivery is attached.";
                evidence["shipping_proof"] = new JsonArray("doc_" + run.NewId("")[..14]);
                evidence["submitted_at"] = run.At;
                d.Body["status"] = "under_review";
                Publish(run, "payment.dispute.under_review", d);
            }, "payment.dispute.created")
            .On("payment.dispute.won", ["under_review", "action_required"], "won", (run, d) => Decide(run, d, "won"), "payment.dispute.created", "payment.dispute.under_review")
            .On("payment.dispute.lost", ["under_review", "action_required"], "lost", (run, d) => Decide(run, d, "lost"), "payment.dispute.created", "payment.dispute.under_review")
            .On("payment.dispute.closed", Decided, "closed", (run, d) =>
            {
                d.Body["status"] = "closed";
                Publish(run, "payment.dispute.closed", d);
            }, "payment.dispute.created", "payment.dispute.under_review", "payment.dispute.lost");
    }

    private static SandboxEntity Create(SandboxRun run, string eventName)
    {
        var requested = run.Options.Integer("amount");
        var payment = PaymentSteps.CapturedPayment(run, requested);
        if (requested > payment.Body.Number("amount"))
        {
            throw new SandboxException($"A dispute cannot be larger than its payment ({payment.Body.Number("amount")}).", "amount");
        }

        var amount = requested ?? payment.Body.Number("amount");
        var dispute = run.Create("dispute", "dispute", "disp_");
        dispute.Body["payment_id"] = payment.Id;
        dispute.Body["amount"] = amount;
        dispute.Body["currency"] = payment.Body.Text("currency");
        dispute.Body["respond_by"] = run.At + (7 * 86_400);
        dispute.Body.Child("evidence")["amount"] = amount;
        return dispute;
    }

    private static void Decide(SandboxRun run, SandboxEntity dispute, string outcome)
    {
        dispute.Body["status"] = outcome;
        dispute.Body["amount_deducted"] = outcome == "lost" ? dispute.Body.Number("amount") : 0;
        Publish(run, "payment.dispute." + outcome, dispute);
    }

    private static void Publish(SandboxRun run, string name, SandboxEntity dispute)
        => run.Publish(name, run.Get(dispute.Body.Text("payment_id"), "payment"), dispute);
}
