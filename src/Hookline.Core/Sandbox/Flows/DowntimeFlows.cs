using System.Text.Json.Nodes;

namespace Hookline.Core.Sandbox.Flows;

/// <summary>Downtimes of payment methods and of payout beneficiary banks: started → updated… → resolved.</summary>
internal static class DowntimeFlows
{
    private static readonly string[] Ongoing = ["started", "updated"];

    public static IEnumerable<EntityMachine> Machines()
    {
        yield return new EntityMachine("payment.downtime", "downtime_id", (run, _) => NewPaymentDowntime(run))
            .On("payment.downtime.started", ["created"], "started", (run, d) => Set(run, d, "started", "payment.downtime.started"))
            .On("payment.downtime.updated", Ongoing, "updated", (run, d) =>
            {
                d.Body["severity"] = d.Body.Text("severity") == "high" ? "medium" : "low";
                Set(run, d, "updated", "payment.downtime.updated");
            }, "payment.downtime.started")
            .On("payment.downtime.resolved", Ongoing, "resolved", (run, d) =>
            {
                d.Body["end"] = run.At;
                Set(run, d, "resolved", "payment.downtime.resolved");
            }, "payment.downtime.started");

        yield return new EntityMachine("payout.downtime", "downtime_id", (run, _) =>
            {
                var downtime = run.Create("payout.downtime", "payout.downtime", "poutdown_");
                downtime.Body["instrument"] = new JsonObject { ["bank"] = run.Options.Text("bank", 8) ?? "ICIC" };
                downtime.Body["begin"] = run.At;
                return downtime;
            })
            .On("payout.downtime.started", ["created"], "started", (run, d) => Set(run, d, "started", "payout.downtime.started"))
            .On("payout.downtime.resolved", ["started"], "resolved", (run, d) =>
            {
                d.Body["end"] = run.At;
                Set(run, d, "resolved", "payout.downtime.resolved");
            }, "payout.downtime.started");
    }

    private static SandboxEntity NewPaymentDowntime(SandboxRun run)
    {
        var method = run.Options.OneOf("method", PaymentSteps.Methods) ?? "netbanking";
        var downtime = run.Create("payment.downtime", "payment.downtime", "down_");
        var (key, value) = method switch
        {
            "card" => ("network", "VISA"),
            "upi" => ("vpa_handle", "okicici"),
            "wallet" => ("wallet", "paytm"),
            _ => ("bank", "ICIC"),
        };
        downtime.Body["method"] = method;
        downtime.Body["begin"] = run.At;
        downtime.Body["severity"] = run.Options.OneOf("severity", "low", "medium", "high") ?? "high";
        downtime.Body["instrument"] = new JsonObject { [key] = value };
        downtime.Body["instrument_schema"] = new JsonArray(key);
        return downtime;
    }

    private static void Set(SandboxRun run, SandboxEntity downtime, string status, string eventName)
    {
        downtime.Body["status"] = status;
        downtime.Body["updated_at"] = run.At;
        run.Publish(eventName, downtime);
    }
}
