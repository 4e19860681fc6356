using System.Diagnostics;

namespace Hookline.Cli.Bench;

/// <summary>
/// S5: N deliveries queue up while no worker runs (<c>hookline serve --role api</c> takes the events; the
/// sink's side sees nothing), then a fresh <c>hookline serve</c> starts and drains them from the table. Drain
/// rate (worker ready → every result recorded) against S1, and the peak resident memory of the Hookline
/// processes over the whole run. Both run as child processes, so the memory is Hookline's alone.
/// </summary>
internal static class BacklogScenario
{
    private const int EventsPerRequest = 1000;
    private static readonly TimeSpan Stall = TimeSpan.FromSeconds(60);

    public static async Task RunAsync(ScenarioContext context)
    {
        var options = context.Options;
        var sink = context.Sink;
        await using var instance = await context.Store.NewInstanceAsync(context.CancellationToken);
        var port = HooklineChild.FreePort();
        sink.Reset();
        var ledger = new EventLedger();

        // Phase 1: ingest with no worker anywhere.
        double ingestSeconds, ingestRss;
        await using (var api = await HooklineChild.StartAsync(instance, options, port, role: "api", cancellationToken: context.CancellationToken))
        {
            var accountId = await context.AccountWithWebhooksAsync(api, [sink.Url(0)]);
            using var client = new PlatformClient(api.BaseAddress);
            var batch = Math.Min(EventsPerRequest, options.Backlog);
            var load = new ClosedLoopLoad(client, BenchPayload.Request(accountId, batch), batch, ledger, new LatencySamples());
            var started = Stopwatch.GetTimestamp();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
            await using (Progress.Start(context.Output, context.Label("S5 queue"), () => $"queued {ledger.Deliveries,10:N0} / {options.Backlog:N0}  {ledger.Deliveries / Math.Max(0.001, Ticks.SinceSeconds(started)),8:N0}/s  rss {api.SampleRss() / 1e6:N0} MB"))
            {
                // The window is the backlog itself: the loops stop sending once it is queued.
                var loading = load.RunAsync(2, () => ledger.Deliveries, options.Backlog - 1, stop.Token);
                await WaitUntilAsync(() => ledger.Deliveries >= options.Backlog, () => ledger.Deliveries, "queueing", api.SampleRss, context.CancellationToken);
                await stop.CancelAsync();
                await loading;
            }

            ingestSeconds = Ticks.SinceSeconds(started);
            ingestRss = api.PeakRss() / 1e6;
        }

        // Phase 2: a worker starts and drains the table.
        double drainSeconds, drainRss;
        var expected = ledger.Deliveries;
        await using (var probe = StoreProbe.Open(instance, options))
        await using (var worker = await HooklineChild.StartAsync(instance, options, port, cancellationToken: context.CancellationToken))
        {
            var started = Stopwatch.GetTimestamp();
            await using (Progress.Start(context.Output, context.Label("S5 drain"), () => $"received {sink.Total,10:N0} / {expected:N0}  {sink.Total / Math.Max(0.001, Ticks.SinceSeconds(started)),8:N0}/s  rss {worker.SampleRss() / 1e6:N0} MB"))
            {
                await WaitUntilAsync(() => sink.Total >= expected, () => sink.Total, "draining", worker.SampleRss, context.CancellationToken);
                long recorded = 0;
                await WaitUntilAsync(() => recorded >= expected, () => recorded, "recording", async () => recorded = await probe.SucceededAsync(context.CancellationToken), context.CancellationToken);
            }

            drainSeconds = Ticks.SinceSeconds(started);
            drainRss = worker.PeakRss() / 1e6;
        }

        var account = DeliveryAccount.Of(ledger, sink.Arrivals(), _ => true, 1);
        var drainRate = Math.Round(expected / drainSeconds, 1);
        var s1 = context.Report.S1?.DeliveriesPerSecond;
        context.Report.S5 = new BacklogResult(
            expected, Math.Round(ingestSeconds, 2), Math.Round(ledger.Events / ingestSeconds, 1), Math.Round(drainSeconds, 2), drainRate,
            s1 > 0 ? drainRate / s1.Value : null,
            Math.Round(Math.Max(ingestRss, drainRss), 1), Math.Round(ingestRss, 1), Math.Round(drainRss, 1), account.Lost, account.Duplicates);
    }

    /// <summary>Waits for <paramref name="done"/>; fails when <paramref name="progress"/> has not moved for a minute.</summary>
    private static async Task WaitUntilAsync(Func<bool> done, Func<long> progress, string what, Func<Task> poll, CancellationToken cancellationToken)
    {
        var last = progress();
        var movedAt = Stopwatch.GetTimestamp();
        while (true)
        {
            await poll();
            if (done())
            {
                return;
            }

            if (progress() != last)
            {
                last = progress();
                movedAt = Stopwatch.GetTimestamp();
            }
            else if (Stopwatch.GetElapsedTime(movedAt) > Stall)
            {
                throw new TimeoutException($"S5 stalled while {what}: no progress for {Stall.TotalSeconds:0} s at {last:N0}");
            }

            await Task.Delay(250, cancellationToken);
        }
    }

    private static Task WaitUntilAsync(Func<bool> done, Func<long> progress, string what, Func<long> sample, CancellationToken cancellationToken)
        => WaitUntilAsync(done, progress, what, () =>
        {
            sample();
            return Task.CompletedTask;
        }, cancellationToken);
}
