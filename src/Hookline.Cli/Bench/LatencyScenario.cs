using System.Diagnostics;

namespace Hookline.Cli.Bench;

/// <summary>
/// S2: one event per request at each fixed rate, one webhook. Ingestion ack latency (due → 201) and
/// ingest→received latency (due → the sink has it), both from the request's due time; and from Hookline's
/// <c>/metrics</c>, how many of the store's commits were slow (<see cref="CommitLatency"/>).
/// </summary>
internal static class LatencyScenario
{
    public static async Task RunAsync(ScenarioContext context)
    {
        var results = new List<LatencyResult>();
        context.Report.S2 = results;
        foreach (var rate in context.Options.Rates)
        {
            results.Add(await RunAsync(context, rate));
        }
    }

    private static async Task<LatencyResult> RunAsync(ScenarioContext context, int rate)
    {
        var (instance, hookline) = await context.StartInProcessAsync();
        await using (instance)
        await using (hookline)
        {
            var sink = context.Sink;
            var accountId = await context.AccountWithWebhooksAsync(hookline, [sink.Url(0)]);
            sink.Reset();
            var ledger = new EventLedger();
            var acks = new LatencySamples();
            using var client = new PlatformClient(hookline.BaseAddress);
            var load = new FixedRateLoad(client, BenchPayload.Request(accountId, null), ledger, acks);
            var started = Stopwatch.GetTimestamp();
            await using (var timeline = new Timeline(() => sink.Total, () => hookline.Recorded))
            await using (Progress.Start(context.Output, context.Label($"S2 {rate}/s"), () => $"{SteadyRun.Status(timeline, ledger.Events - sink.Total)}  in flight {load.Outstanding:N0}"))
            {
                await load.RunAsync(rate, context.Options.Duration);
            }

            var seconds = Ticks.SinceSeconds(started);
            var waitUntil = Stopwatch.GetTimestamp() + (30 * Stopwatch.Frequency);
            while (sink.Total < ledger.Events && Stopwatch.GetTimestamp() < waitUntil)
            {
                await Task.Delay(20);
            }

            var account = DeliveryAccount.Of(ledger, sink.Arrivals(), _ => true, 1);
            var metrics = await CommitLatency.ScrapeAsync(hookline.BaseAddress);
            return new LatencyResult(
                rate, Math.Round(seconds, 2), Math.Round(ledger.Events / context.Options.Duration.TotalSeconds, 1), ledger.Events, load.Skipped,
                ledger.Refused + ledger.Ambiguous, acks.Summary(), account.EndToEnd, account.Lost, account.Duplicates,
                CommitLatency.Parse(metrics, CommitLatency.Ingestion), CommitLatency.Parse(metrics, CommitLatency.SqliteCommits));
        }
    }
}
