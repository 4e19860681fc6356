namespace Hookline.Cli.Bench;

/// <summary>
/// S3: every event goes to N subscribed webhooks (paths /w/0 … /w/N-1 of the one sink, so the same connections
/// as S0 and S1). Each request carries about a hundred deliveries: 100/N events, at least one. Four ingestion loops
/// instead of S1's two (<see cref="SteadyPlan.FanOutLoops"/>).
/// </summary>
internal static class FanOutScenario
{
    public static async Task RunAsync(ScenarioContext context)
    {
        var results = new List<FanOutResult>();
        context.Report.S3 = results;
        foreach (var webhooks in context.Options.FanOut)
        {
            results.Add(await RunAsync(context, Math.Clamp(webhooks, 1, Sink.MaxWebhooks)));
        }
    }

    private static async Task<FanOutResult> RunAsync(ScenarioContext context, int webhooks)
    {
        var options = context.Options;
        var (instance, hookline) = await context.StartInProcessAsync();
        await using (instance)
        await using (hookline)
        {
            var accountId = await context.AccountWithWebhooksAsync(hookline, [.. Enumerable.Range(0, webhooks).Select(context.Sink.Url)]);
            var eventsPerRequest = Math.Max(1, options.BatchEvents / webhooks);
            var run = await SteadyRun.RunAsync(
                new SteadyPlan(hookline, context.Sink, accountId, eventsPerRequest, webhooks, context.Label($"S3 x{webhooks}")) { Loops = SteadyPlan.FanOutLoops },
                options with { Window = Math.Max(options.Window, 2 * webhooks) },
                context.Output,
                context.CancellationToken);
            var s1 = context.Report.S1?.DeliveriesPerSecond;
            return new FanOutResult(
                webhooks, eventsPerRequest, run.Events, run.Deliveries, run.Seconds, run.DeliveriesPerSecond,
                s1 > 0 ? run.DeliveriesPerSecond / s1.Value : null, run.Ack, run.Account.EndToEnd, run.Account.Lost, run.Account.Duplicates);
        }
    }
}
