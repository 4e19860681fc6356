using System.Text.Json.Nodes;

namespace Hookline.Core.Sandbox.Flows;

/// <summary>
/// A partner's sub-merchants: under_review → needs_clarification → activated | activated_kyc_pending | rejected,
/// then payments enabled, suspended, funds held and released; Route linked accounts whose bank details are
/// verified; and the payloads that are not entities (GMV warnings, OAuth revocation, banking account numbers).
/// </summary>
internal static class AccountFlows
{
    private static readonly string[] Live = ["activated", "activated_kyc_pending", "instantly_activated"];
    private static readonly string[] UnderReview = ["account.under_review"];
    private static readonly string[] Activated = ["account.under_review", "account.activated"];

    public static IEnumerable<EntityMachine> Machines()
    {
        yield return new EntityMachine("account", "sub_account_id", (run, _) => NewSubMerchant(run))
            .On("account.under_review", ["created", "needs_clarification"], "under_review", (run, a) => Review(run, a, "under_review"))
            .On("account.needs_clarification", ["under_review"], "needs_clarification", (run, a) =>
            {
                var detail = a.Body.Child("merchant_detail");
                detail["issue_fields"] = "business_proof_url";
                detail["issue_fields_reason"] = "The business proof document cannot be read; upload a clearer copy.";
                Review(run, a, "needs_clarification");
            }, UnderReview)
            .On("account.activated", ["under_review", "needs_clarification", "activated_kyc_pending", "instantly_activated"], "activated", (run, a) => Activate(run, a, "activated"), UnderReview)
            .On("account.activated_kyc_pending", ["under_review", "needs_clarification"], "activated_kyc_pending", (run, a) => Activate(run, a, "activated_kyc_pending"), UnderReview)
            .On("account.instantly_activated", ["created"], "instantly_activated", (run, a) => Activate(run, a, "instantly_activated"))
            .On("account.rejected", ["under_review", "needs_clarification"], "rejected", (run, a) => Review(run, a, "rejected"), UnderReview)
            .On("account.payments_enabled", Live, null, (run, a) => Publish(run, a, "account.payments_enabled"), Activated)
            .On("account.suspended", Live, "suspended", (run, a) =>
            {
                a.Body["live"] = false;
                a.Body["suspended_at"] = run.At;
                Publish(run, a, "account.suspended");
            }, Activated)
            .On("account.funds_hold", Live, null, (run, a) =>
            {
                a.Body["hold_funds"] = true;
                Publish(run, a, "account.funds_hold");
            }, Activated)
            .On("account.funds_unhold", Live, null, (run, a) =>
            {
                if (a.Body["hold_funds"]?.GetValue<bool>() != true)
                {
                    throw new SandboxException($"The account {a.Id} has no funds on hold.", "sub_account_id");
                }

                a.Body["hold_funds"] = false;
                Publish(run, a, "account.funds_unhold");
            }, [.. Activated, "account.funds_hold"]);

        yield return new EntityMachine("account", "sub_account_id", (run, _) => NewLinkedAccount(run))
            .On("account.updated", [], null, (run, a) =>
            {
                if (!a.Facts.ContainsKey("bank_account_id"))
                {
                    throw new SandboxException($"The account {a.Id} is a sub-merchant, not a Route linked account.", "sub_account_id");
                }

                var verified = (run.Options.OneOf("result", "verified", "failed") ?? "verified") == "verified";
                var details = a.Body.Child("activation_details");
                details["status"] = verified ? "activated" : "verification_failed";
                details["activated_at"] = verified ? run.At : null;
                details["can_submit"] = !verified;
                if (!verified)
                {
                    details["bank_details_verification_error"] = "The beneficiary account number or IFSC is not valid.";
                }

                a.Body["live"] = verified;
                run.Publish("account.updated", a, run.Get(a.Facts.Text("bank_account_id"), "bank_account"));
            });
    }

    public static IEnumerable<(string Event, Action<SandboxRun> Flow)> Single()
    {
        yield return ("account.app.authorization_revoked", run => run.PublishPayload("account.app.authorization_revoked", new JsonObject()));
        yield return ("account.instant_activation_gmv_limit_warning", run => GmvWarning(run, "account.instant_activation_gmv_limit_warning", 15_000,
            "Payments are capped at INR 15,000 until the remaining KYC details are submitted."));
        yield return ("account.no_doc_onboarding_gmv_limit_warning", run => GmvWarning(run, "account.no_doc_onboarding_gmv_limit_warning", 50_000,
            "Accounts onboarded without documents can accept up to INR 50,000; submit documents to lift the cap."));
        yield return ("banking_accounts.issued", run => run.PublishPayload("banking_accounts.issued", new JsonObject
        {
            ["accounts"] = new JsonObject
            {
                ["virtual"] = new JsonObject { ["account_number"] = "2323230" + Digits(run.NewId("")) },
                ["current"] = new JsonArray(new JsonObject { ["channel"] = "rbl", ["account_number"] = "4090" + Digits(run.NewId("")) }),
            },
        }));
    }

    private static SandboxEntity NewSubMerchant(SandboxRun run)
    {
        var account = run.Create("account.merchant", "account", "acc_");
        account.Body["updated_at"] = run.At;
        return account;
    }

    private static SandboxEntity NewLinkedAccount(SandboxRun run)
    {
        var account = run.Create("account.linked", "account", "acc_", "under_review");
        var bank = run.Create("bank_account", "bank_account", "ba_");
        account.Body.Child("fund_transfer")["destination"] = bank.Id;
        account.Facts["bank_account_id"] = bank.Id;
        return account;
    }

    private static void Review(SandboxRun run, SandboxEntity account, string status)
    {
        account.Body.Child("merchant_detail")["activation_status"] = status;
        Publish(run, account, "account." + status);
    }

    private static void Activate(SandboxRun run, SandboxEntity account, string status)
    {
        account.Body["activated"] = true;
        account.Body["activated_at"] = run.At;
        account.Body["live"] = true;
        Review(run, account, status);
    }

    private static void Publish(SandboxRun run, SandboxEntity account, string eventName)
    {
        account.Body["updated_at"] = run.At;
        run.Publish(eventName, account);
    }

    private static void GmvWarning(SandboxRun run, string eventName, long limit, string message)
    {
        var account = run.Options.Text("sub_account_id") ?? run.NewId("acc_");
        run.PublishPayload(eventName, new JsonObject
        {
            ["acc_id"] = account.StartsWith("acc_", StringComparison.Ordinal) ? account[4..] : account,
            ["gmv_limit"] = limit,
            ["current_gmv"] = run.Options.Integer("current_gmv", min: 0) ?? limit * 4 / 5,
            ["message"] = message,
        }, new Dictionary<string, string> { ["account"] = account });
    }

    private static string Digits(string id) => string.Concat(id.Select(c => (char)('0' + (c % 10))))[..9];
}
