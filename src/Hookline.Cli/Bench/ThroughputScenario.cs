namespace Hookline.Cli.Bench;

/// <summary>
/// S0 and S1 side by side: half of S0, then S1 (batched ingestion, one webhook, deliveries per second from
/// acceptance to the recorded 2xx), then the other half of S0. S0 brackets S1 so that another process's
/// burst on this shared machine shows up as a gap between the two halves instead of skewing the ratio.
/// </summary>
internal static class ThroughputScenario
{
    public static async Task RunAsync(ScenarioContext context)
    {
        var options = context.Options;
        var half = TimeSpan.FromTicks(options.Duration.Ticks / 2);
        var before = await RawPostScenario.MeasureAsync(context.Sink, options, half, context.Output, context.Label("S0 before"));

        try
        {
            if (options.Runs("S1"))
            {
                await RunS1Async(context);
            }
        }
        finally
        {
            var after = await RawPostScenario.MeasureAsync(context.Sink, options, half, context.Output, context.Label("S0 after"));
            Record(context, before, after);
        }
    }

    private static async Task RunS1Async(ScenarioContext context)
    {
        var options = context.Options;
        var (instance, hookline) = await context.StartInProcessAsync();
        await using (instance)
        await using (hookline)
        {
            var accountId = await context.AccountWithWebhooksAsync(hookline, [context.Sink.Url(0)]);
            var writer = WriterLoad.MeasureAsync(hookline.BaseAddress, options.Warmup, options.Duration);
            var run = await SteadyRun.RunAsync(new SteadyPlan(hookline, context.Sink, accountId, options.BatchEvents, 1, context.Label("S1")), options, context.Output);
            context.Report.S1 = new ThroughputResult(
                options.BatchEvents, run.Events, run.Deliveries, run.Seconds, run.DeliveriesPerSecond, run.ReceivedPerSecond, run.RecordedPerSecond,
                null, run.Ack, run.Account.EndToEnd, run.Account.Lost, run.Account.Duplicates, run.DrainSeconds,
                run.CpuMicrosecondsPerDelivery, run.CoresUsed, await writer, run.OtherCpuMicrosecondsPerDelivery);
        }
    }

    private static void Record(ScenarioContext context, RawPost before, RawPost after)
    {
        var options = context.Options;
        var s0 = Math.Round((before.PerSecond + after.PerSecond) / 2, 1);
        var latency = after.Latency.Count > 0 ? after.Latency : before.Latency;
        context.Report.S0 = new RawPostResult(
            options.Concurrency, BenchPayload.DeliveredBody().Length, before.Requests + after.Requests, s0, before.PerSecond, after.PerSecond, latency,
            Math.Round((before.CpuMicroseconds + after.CpuMicroseconds) / 2, 1), Math.Round((before.Cores + after.Cores) / 2, 2));
        if (context.Report.S1 is { } s1 && s0 > 0)
        {
            context.Report.S1 = s1 with { RatioToS0 = Math.Round(s1.DeliveriesPerSecond / s0, 3) };
        }
    }
}
