namespace Hookline.Cli.Bench;

/// <summary>
/// S4: twenty webhooks get every event; one is black-holed (accepts, never answers: each attempt waits out
/// the 5 s timeout) and one refuses connections, a tenth of them failing. What the eighteen healthy ones get
/// (deliveries per second, ingest→received p99) is compared with S1's single healthy webhook, under S1's own load: two
/// ingestion loops, a hundred deliveries per request (five events to twenty webhooks), so that the one thing that
/// differs is the fan-out and the failing webhooks. With S3's four loops, ingestion outran delivery and the p99 became
/// the queue the generator built (up to 3,500 deliveries outstanding; docs/benchmarks.md, "Before and after").
/// </summary>
internal static class IsolationScenario
{
    private const int Webhooks = 20;
    private const int Healthy = 18;

    public static async Task RunAsync(ScenarioContext context)
    {
        var options = context.Options;
        var (instance, hookline) = await context.StartInProcessAsync();
        await using var failing = FailingEndpoints.Start();
        await using (instance)
        await using (hookline)
        {
            var urls = Enumerable.Range(0, Healthy).Select(context.Sink.Url).Append(failing.BlackHoleUrl(Healthy)).Append(failing.RefusingUrl(Healthy + 1)).ToList();
            var accountId = await context.AccountWithWebhooksAsync(hookline, urls);
            var run = await SteadyRun.RunAsync(
                new SteadyPlan(hookline, context.Sink, accountId, Math.Max(1, options.BatchEvents / Webhooks), Healthy, context.Label("S4")) { WaitForRecorded = false },
                options, context.Output, context.CancellationToken);
            var s1 = context.Report.S1;
            context.Report.S4 = new IsolationResult(
                Webhooks, 1, 1, run.Seconds, run.ReceivedPerSecond,
                s1?.ReceivedPerSecond > 0 ? run.ReceivedPerSecond / s1.ReceivedPerSecond : null,
                run.Account.EndToEnd,
                s1?.EndToEnd.P99Ms > 0 ? run.Account.EndToEnd.P99Ms / s1.EndToEnd.P99Ms : null,
                run.Account.Lost, run.Account.Duplicates, run.Ack);
        }
    }
}
