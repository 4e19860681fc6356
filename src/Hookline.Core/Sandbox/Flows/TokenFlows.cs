using System.Text.Json.Nodes;

namespace Hookline.Core.Sandbox.Flows;

/// <summary>
/// Tokens. Recurring mandates: initiated → confirmed | rejected, confirmed → paused → resumed, any → cancelled
/// (their state is <c>recurring_details.status</c>). Card tokens: initiated → active → suspended | deactivated.
/// Network tokens (service provider tokens) of a card token: activated, suspended, deactivated or failed.
/// </summary>
internal static class TokenFlows
{
    private static readonly string[] Usable = ["confirmed", "resumed"];
    private static readonly string[] UpiOnly = ["token.paused", "token.resumed", "token.cancellation_initiated"];

    public static IEnumerable<EntityMachine> Machines()
    {
        yield return new EntityMachine("token", "token_id", NewMandate)
            .On("token.confirmed", ["initiated"], "confirmed", (run, t) => Recurring(run, t, "confirmed"))
            .On("token.rejected", ["initiated"], "rejected", (run, t) =>
            {
                t.Body.Child("recurring_details")["failure_reason"] = "The customer's bank did not approve the mandate.";
                Recurring(run, t, "rejected");
            })
            .On("token.paused", Usable, "paused", (run, t) => Recurring(run, t, "paused"), "token.confirmed")
            .On("token.resumed", ["paused"], "resumed", (run, t) => Recurring(run, t, "resumed"), "token.confirmed", "token.paused")
            .On("token.cancellation_initiated", ["confirmed", "resumed", "paused"], "cancellation_initiated", (run, t) => Recurring(run, t, "cancellation_initiated"), "token.confirmed")
            .On("token.cancelled", ["initiated", "confirmed", "resumed", "paused", "cancellation_initiated"], "cancelled", (run, t) => Recurring(run, t, "cancelled"), "token.confirmed");

        yield return new EntityMachine("token", "token_id", (run, _) => NewCardToken(run))
            .On("token.initiated", ["created"], "initiated", (run, t) => run.Publish("token.initiated", t))
            .On("token.activated", ["initiated"], "active", (run, t) => Card(run, t, "active", "token.activated"), "token.initiated")
            .On("token.suspended", ["active"], "suspended", (run, t) => Card(run, t, "suspended", "token.suspended"), "token.initiated", "token.activated")
            .On("token.deactivated", ["active", "suspended"], "deactivated", (run, t) => Card(run, t, "deactivated", "token.deactivated"), "token.initiated", "token.activated")
            .On("token.expiry_updated", ["active"], null, (run, t) =>
            {
                t.Body["expired_at"] = t.Body.Number("expired_at") + (2 * 365 * 86_400);
                run.Publish("token.expiry_updated", t);
            }, "token.initiated", "token.activated");

        yield return new EntityMachine("service_provider_token", "service_provider_token_id", NewNetworkToken)
            .On("token.service_provider.activated", ["created"], "activated", (run, spt) => Network(run, spt, "activated", "token.service_provider.activated"))
            .On("token.service_provider_token.activated", ["created"], "active", (run, spt) => Network(run, spt, "active", "token.service_provider_token.activated"))
            .On("token.service_provider.cancelled", ["activated", "active"], "suspended", (run, spt) => Network(run, spt, "suspended", "token.service_provider.cancelled"), "token.service_provider.activated")
            .On("token.service_provider.deactivated", ["activated", "active", "suspended"], "deactivated", (run, spt) =>
            {
                TokenOf(run, spt).Body["status"] = "deactivated";
                Network(run, spt, "deactivated", "token.service_provider.deactivated");
            }, "token.service_provider.activated")
            .On("token.service_provider.failed", ["created"], "failed", (run, spt) =>
            {
                var error = new JsonObject
                {
                    ["code"] = "BAD_REQUEST_ERROR", ["description"] = "The card network could not tokenise the card.", ["source"] = "network",
                    ["step"] = "token_creation", ["reason"] = "token_creation_failed", ["metadata"] = new JsonObject(),
                };
                spt.Body["error"] = error.DeepClone();
                var token = TokenOf(run, spt);
                token.Body["status"] = "failed";
                token.Body["error"] = error;
                Network(run, spt, "failed", "token.service_provider.failed");
            });
    }

    /// <summary>The mandate named by <c>token_id</c> (it must be usable) or a mandate confirmed before this trigger.</summary>
    public static SandboxEntity ConfirmedMandate(SandboxRun run)
    {
        var existing = run.FromOption("token_id", "token");
        if (existing is not null)
        {
            return Usable.Contains(existing.State)
                ? existing
                : throw new SandboxException($"The token {existing.Id} is {existing.State}; a recurring charge needs a confirmed mandate.", "token_id");
        }

        var token = NewMandate(run, "token.confirmed");
        token.Body.Child("recurring_details")["status"] = "confirmed";
        token.State = "confirmed";
        return token;
    }

    private static SandboxEntity NewMandate(SandboxRun run, string eventName)
    {
        var method = run.Options.OneOf("method", "emandate", "upi", "nach") ?? (UpiOnly.Contains(eventName) ? "upi" : "emandate");
        var token = run.Create("token.mandate", "token", "token_", "initiated");
        var body = token.Body;
        body["token"] = run.NewId("")[..14];
        body["method"] = method;
        body["used_at"] = run.At;
        body["expired_at"] = run.At + (5 * 365 * 86_400);
        if (method == "upi")
        {
            body["bank"] = null;
            body["auth_type"] = null;
            body.Remove("bank_details");
            body.Insert(body.IndexOf("recurring"), "vpa", new JsonObject { ["username"] = "asha.menon", ["handle"] = "okicici", ["name"] = "Asha Menon" });
            body["start_time"] = run.At;
            body["max_amount"] = 500_000;
        }
        else if (method == "nach")
        {
            body["auth_type"] = "physical";
        }

        return token;
    }

    private static SandboxEntity NewCardToken(SandboxRun run)
    {
        var token = run.Create("token.card", "token", "token_");
        token.Body["customer_id"] = run.NewId("cust_");
        token.Body["expired_at"] = run.At + (3 * 365 * 86_400);
        return token;
    }

    private static SandboxEntity NewNetworkToken(SandboxRun run, string eventName)
    {
        var token = NewCardToken(run);
        token.Body["status"] = "active";
        token.State = "active";
        var spt = run.Create("service_provider_token", "service_provider_token", "spt_");
        var data = spt.Body.Child("provider_data");
        data["token_reference_number"] = run.NewId("")[..14].ToLowerInvariant() + run.NewId("")[..14].ToLowerInvariant();
        data["payment_account_reference"] = "V001" + run.NewId("")[..14].ToUpperInvariant();
        spt.Facts["token_id"] = token.Id;
        return spt;
    }

    private static void Recurring(SandboxRun run, SandboxEntity token, string status)
    {
        token.Body.Child("recurring_details")["status"] = status;
        run.Publish("token." + status, token);
    }

    private static void Card(SandboxRun run, SandboxEntity token, string status, string eventName)
    {
        token.Body["status"] = status;
        run.Publish(eventName, token);
    }

    private static void Network(SandboxRun run, SandboxEntity spt, string status, string eventName)
    {
        spt.Body["status"] = status;
        var token = TokenOf(run, spt);
        token.Body["service_provider_tokens"] = new JsonArray(spt.Body.DeepClone());
        run.Publish(eventName, spt, token);
    }

    private static SandboxEntity TokenOf(SandboxRun run, SandboxEntity spt) => run.Get(spt.Facts.Text("token_id"), "token");
}
