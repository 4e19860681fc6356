using System.Diagnostics;

namespace Hookline.Cli.Bench;

/// <summary>
/// S2: one event per request at each fixed rate, one webhook, on an instance started for that rate. Ingestion ack
/// latency (due → 201) and ingest→received latency (due → the sink has it), both from the request's due time.
/// The first <see cref="BenchOptions.Warmup"/> of the stream is the cold start (fresh process state: no measured
/// endpoint pace, no pooled connections, an empty page cache): it is reported apart, and the percentiles are
/// those of the steady rest, as S1's rates are. From Hookline's <c>/metrics</c>, how many of the store's commits
/// were slow over the whole run (<see cref="CommitLatency"/>), set beside how many acks were (<see cref="SlowAcks"/>),
/// and how busy SQLite's writer was in the steady phase (<see cref="WriterLoad"/>). Also what no server causes but
/// every latency includes: how late the generator sent each request, and the bench process's GC pauses.
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
            var (warmup, measured) = (new LoadPhase(), new LoadPhase());
            long Accepted() => warmup.Ledger.Events + measured.Ledger.Events;
            using var client = new PlatformClient(hookline.BaseAddress);
            var load = new FixedRateLoad(client, BenchPayload.Request(accountId, null), warmup, measured);
            var options = context.Options;
            var started = Stopwatch.GetTimestamp();
            var writer = WriterLoad.MeasureAsync(hookline.BaseAddress, options.Warmup, options.Warmup + options.Duration);
            double cores, cpuPerEvent;
            GcLoad gc;
            using var allocations = new AllocationTicks();
            await using (var timeline = new Timeline(() => sink.Total, () => hookline.Recorded, () => allocations.Bytes))
            {
                await using (Progress.Start(context.Output, context.Label($"S2 {rate}/s"), () => $"{SteadyRun.Status(timeline, Accepted() - sink.Total)}  in flight {load.Outstanding:N0}"))
                {
                    await load.RunAsync(rate, options.Warmup, options.Duration, context.CancellationToken);
                }

                var end = timeline.Take().Seconds;
                var steadyFrom = Math.Min(options.Warmup.TotalSeconds, end / 3);
                (cores, cpuPerEvent, gc) = (timeline.CoresUsed(steadyFrom, end), timeline.CpuMicrosecondsPerItem(steadyFrom, end), timeline.Gc(steadyFrom, end));
            }

            context.CancellationToken.ThrowIfCancellationRequested();
            var seconds = Ticks.SinceSeconds(started);
            var waitUntil = Stopwatch.GetTimestamp() + (30 * Stopwatch.Frequency);
            while (sink.Total < Accepted() && Stopwatch.GetTimestamp() < waitUntil)
            {
                await Task.Delay(20, context.CancellationToken);
            }

            var arrivals = sink.Arrivals();
            var cold = DeliveryAccount.Of(warmup.Ledger, arrivals, _ => true, 1);
            var steady = DeliveryAccount.Of(measured.Ledger, arrivals, _ => true, 1);
            var metrics = await CommitLatency.ScrapeAsync(hookline.BaseAddress);
            var ledger = measured.Ledger;
            return new LatencyResult(
                rate, Math.Round(seconds, 2), Math.Round(ledger.Events / options.Duration.TotalSeconds, 1), ledger.Events, load.Skipped,
                ledger.Refused + ledger.Ambiguous, measured.Acks.Summary(), steady.EndToEnd, steady.Lost + cold.Lost, steady.Duplicates + cold.Duplicates,
                CommitLatency.Parse(metrics, CommitLatency.Ingestion),
                context.Store.IsPostgres ? null : CommitLatency.Parse(metrics, CommitLatency.SqliteCommits),
                new ColdStart(options.Warmup.TotalSeconds, warmup.Ledger.Events, warmup.Acks.Summary(), cold.EndToEnd), await writer, cores, cpuPerEvent,
                new SlowAcks(warmup.Acks.Count + measured.Acks.Count, warmup.Acks.CountOver(5) + measured.Acks.CountOver(5)), gc,
                measured.Lateness.Summary());
        }
    }
}
