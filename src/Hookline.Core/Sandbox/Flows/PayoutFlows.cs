using System.Text.Json.Nodes;

namespace Hookline.Core.Sandbox.Flows;

/// <summary>
/// RazorpayX-style payouts (pending | queued → initiated (processing) → processed | reversed | failed, pending →
/// rejected), payout links, fund account validations and ledger transactions.
/// </summary>
internal static class PayoutFlows
{
    private static readonly string[] InFlight = ["processing", "processed"];

    public static IEnumerable<EntityMachine> Machines()
    {
        yield return new EntityMachine("payout", "payout_id", (run, _) => NewPayout(run))
            .On("payout.pending", ["created"], "pending", (run, p) => Set(run, p, "pending", "internal", "pending_approval", "The payout is waiting for an approver."))
            .On("payout.queued", ["created"], "queued", (run, p) => Set(run, p, "queued", "business", "low_balance", "The business account balance is lower than the payout amount."))
            .On("payout.rejected", ["pending"], "rejected", (run, p) => Set(run, p, "rejected", "internal", "rejected_by_approver", "An approver rejected the payout."), "payout.pending")
            .On("payout.initiated", ["created", "pending", "queued"], "processing", (run, p) =>
            {
                p.Body["fees"] = 590;
                p.Body["tax"] = 90;
                p.Body["fee_type"] = "";
                Set(run, p, "processing", "beneficiary_bank", "payout_bank_processing", "The payout is with the beneficiary bank.", "payout.initiated");
            })
            .On("payout.processed", ["processing"], "processed", (run, p) =>
            {
                p.Body["utr"] ??= Utr(p);
                Set(run, p, "processed", "beneficiary_bank", "payout_processed", "The beneficiary bank credited the payout.");
            }, "payout.initiated")
            .On("payout.updated", InFlight, null, (run, p) =>
            {
                p.Body["utr"] = Utr(p) + (p.Body["utr"] is null ? "" : "R");
                run.Publish("payout.updated", p);
            }, "payout.initiated")
            .On("payout.reversed", InFlight, "reversed", (run, p) => Set(run, p, "reversed", "beneficiary_bank", "beneficiary_bank_rejected", "The beneficiary bank returned the payout; the amount is back in the business account."), "payout.initiated")
            .On("payout.failed", ["processing"], "failed", (run, p) =>
            {
                p.Body["error"] = new JsonObject { ["source"] = "beneficiary_bank", ["reason"] = "invalid_beneficiary_details", ["description"] = "The beneficiary account number is not valid." };
                Set(run, p, "failed", "beneficiary_bank", "invalid_beneficiary_details", "The beneficiary account number is not valid.");
            }, "payout.initiated");

        yield return new EntityMachine("payout_link", "payout_link_id", (run, _) => NewPayoutLink(run))
            .On("payout_link.pending", ["created"], "pending", (run, l) => Link(run, l, "pending"))
            .On("payout_link.rejected", ["pending"], "rejected", (run, l) => Link(run, l, "rejected"), "payout_link.pending")
            .On("payout_link.issued", ["created", "pending"], "issued", (run, l) => Link(run, l, "issued"))
            .On("payout_link.processing", ["issued", "attempted"], "processing", (run, l) =>
            {
                l.Body["fund_account_id"] = run.NewId("fa_");
                l.Body["attempt_count"] = l.Body.Number("attempt_count") + 1;
                Link(run, l, "processing");
            }, "payout_link.issued")
            .On("payout_link.processed", ["processing"], "processed", (run, l) => Link(run, l, "processed"), "payout_link.issued", "payout_link.processing")
            .On("payout_link.attempted", ["processing"], "attempted", (run, l) => Link(run, l, "attempted"), "payout_link.issued", "payout_link.processing")
            .On("payout_link.cancelled", ["pending", "issued", "attempted"], "cancelled", (run, l) =>
            {
                l.Body["cancelled_at"] = run.At;
                Link(run, l, "cancelled");
            }, "payout_link.issued")
            .On("payout_link.expired", ["issued", "attempted"], "expired", (run, l) =>
            {
                l.Body["expired_at"] = run.At;
                Link(run, l, "expired");
            }, "payout_link.issued");

        yield return new EntityMachine("fund_account.validation", "validation_id", (run, _) =>
            {
                var validation = run.Create("fund_account.validation", "fund_account.validation", "fav_");
                var account = validation.Body.Child("fund_account");
                account["id"] = run.NewId("fa_");
                account["contact_id"] = run.NewId("cont_");
                account["created_at"] = run.At - 60;
                return validation;
            })
            .On("fund_account.validation.completed", ["created"], "completed", (run, v) =>
            {
                var valid = (run.Options.OneOf("result", "active", "invalid") ?? "active") == "active";
                v.Body["status"] = "completed";
                v.Body["results"] = new JsonObject { ["account_status"] = valid ? "active" : "invalid", ["registered_name"] = valid ? "RAVI IYER" : null };
                v.Body["utr"] = "SBX" + v.Id[^12..].ToUpperInvariant();
                run.Publish("fund_account.validation.completed", v);
            })
            .On("fund_account.validation.failed", ["created"], "failed", (run, v) =>
            {
                v.Body["status"] = "failed";
                run.Publish("fund_account.validation.failed", v);
            });
    }

    /// <summary>A ledger entry for a processed payout: the one named by <c>payout_id</c>, or one processed before this trigger.</summary>
    public static IEnumerable<(string Event, Action<SandboxRun> Flow)> Single()
    {
        yield return ("transaction.created", run =>
        {
            var payout = run.FromOption("payout_id", "payout");
            if (payout is null)
            {
                payout = NewPayout(run);
                payout.Body["fees"] = 590;
                payout.Body["tax"] = 90;
                payout.Body["status"] = "processed";
                payout.Body["utr"] = Utr(payout);
                payout.State = "processed";
            }
            else if (payout.State != "processed")
            {
                throw new SandboxException($"The payout {payout.Id} is {payout.State}; only a processed payout has a ledger entry.", "payout_id");
            }

            var debit = payout.Body.Number("amount") + payout.Body.Number("fees");
            var transaction = run.Create("transaction", "transaction", "txn_");
            transaction.Body["amount"] = debit;
            transaction.Body["debit"] = debit;
            transaction.Body["balance"] = 25_000_000 - debit;
            transaction.Body["source"] = new JsonObject
            {
                ["id"] = payout.Id, ["entity"] = "payout", ["fund_account_id"] = payout.Body.Text("fund_account_id"), ["amount"] = payout.Body.Number("amount"),
                ["fees"] = payout.Body.Number("fees"), ["tax"] = payout.Body.Number("tax"), ["status"] = "processed", ["utr"] = payout.Body.Text("utr"),
                ["mode"] = payout.Body.Text("mode"), ["created_at"] = payout.Body.Number("created_at"),
            };
            run.Publish("transaction.created", transaction);
        });
    }

    private static SandboxEntity NewPayout(SandboxRun run)
    {
        var payout = run.Create("payout", "payout", "pout_");
        var fundAccount = payout.Body.Child("fund_account");
        var fundAccountId = run.NewId("fa_");
        fundAccount["id"] = fundAccountId;
        fundAccount["contact_id"] = run.NewId("cont_");
        fundAccount["created_at"] = run.At - 86_400;
        payout.Body["fund_account_id"] = fundAccountId;
        payout.Body["amount"] = run.Options.Integer("amount") ?? 100_000;
        payout.Body["mode"] = run.Options.OneOf("mode", "IMPS", "NEFT", "RTGS", "UPI") ?? "IMPS";
        payout.Body["reference_id"] = null;
        return payout;
    }

    private static SandboxEntity NewPayoutLink(SandboxRun run)
    {
        var link = run.Create("payout_link", "payout_link", "poutlk_");
        link.Body["contact_id"] = run.NewId("cont_");
        link.Body["amount"] = run.Options.Integer("amount") ?? 50_000;
        link.Body["expire_by"] = run.At + (7 * 86_400);
        link.Body["receipt"] = "SBX-" + link.Id[^6..].ToUpperInvariant();
        link.Body["short_url"] = "https://pay.example.com/p/" + link.Id[^6..];
        return link;
    }

    private static void Set(SandboxRun run, SandboxEntity payout, string status, string source, string reason, string description, string? eventName = null)
    {
        payout.Body["status"] = status;
        payout.Body["status_details"] = new JsonObject { ["description"] = description, ["source"] = source, ["reason"] = reason };
        run.Publish(eventName ?? "payout." + status, payout);
    }

    private static void Link(SandboxRun run, SandboxEntity link, string status)
    {
        link.Body["status"] = status;
        run.Publish("payout_link." + status, link);
    }

    private static string Utr(SandboxEntity payout) => "SBXUTR" + payout.Id[^10..].ToUpperInvariant();
}
