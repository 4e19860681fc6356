using System.Diagnostics;

namespace Hookline.Cli.Bench;

/// <summary>
/// S6: S1's load against <c>hookline serve</c> as a child process; half-way through, SIGKILL and an immediate
/// restart on the same port and store while the load generator keeps going. Lost = accepted events that never
/// reached the sink (must be 0); duplicates = deliveries that arrived twice (the at-least-once window: what
/// the killed worker held). Full speed = a one-second window at 90 % of the rate before the kill.
/// </summary>
/// <remarks>
/// The lease is 15 s instead of the default minute (2 s with a 1 s attempt timeout in the quick run):
/// deliveries the killed worker held come back only when their lease expires, and the bench waits for them to
/// count losses. The lease length changes when they come back, not whether.
/// </remarks>
internal static class CrashScenario
{
    private const double FullSpeed = 0.9;

    public static async Task RunAsync(ScenarioContext context)
    {
        var options = context.Options;
        var sink = context.Sink;
        var lease = options.Quick ? TimeSpan.FromSeconds(2) : TimeSpan.FromSeconds(15);
        var extra = new Dictionary<string, string>
        {
            ["Delivery:LeaseDuration"] = lease.ToString(),
            ["Delivery:Timeout"] = (options.Quick ? TimeSpan.FromSeconds(1) : new Core.Delivery.DeliveryOptions().Timeout).ToString(),
        };
        await using var instance = await context.Store.NewInstanceAsync(context.CancellationToken);
        var port = HooklineChild.FreePort();
        var server = await HooklineChild.StartAsync(instance, options, port, extra: extra, cancellationToken: context.CancellationToken);
        try
        {
            var accountId = await context.AccountWithWebhooksAsync(server, [sink.Url(0)]);
            sink.Reset();
            var ledger = new EventLedger();
            using var client = new PlatformClient(server.BaseAddress);
            var load = new ClosedLoopLoad(client, BenchPayload.Request(accountId, options.BatchEvents), options.BatchEvents, ledger, new LatencySamples());
            long Outstanding() => load.EventsSent - sink.Total;
            var phase = TimeSpan.FromTicks(Math.Max(options.Duration.Ticks / 2, TimeSpan.FromSeconds(options.Quick ? 1.5 : 3).Ticks));

            await using var timeline = new Timeline(() => sink.Total, () => null);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
            double killedAt, restartSeconds, rateBeforeKill;
            await using (Progress.Start(context.Output, context.Label("S6"), () => SteadyRun.Status(timeline, Outstanding())))
            {
                var loading = load.RunAsync(2, Outstanding, options.Window, stop.Token);
                await Task.Delay(phase, context.CancellationToken);
                killedAt = timeline.Take().Seconds;
                rateBeforeKill = timeline.ReceivedRate(Math.Min(options.Warmup.TotalSeconds, killedAt / 3), killedAt);
                await server.KillAsync();
                await context.Output.WriteLineAsync($"    {context.Label("S6")}: killed (SIGKILL) at {killedAt:0.0} s with {ledger.Events:N0} accepted, {sink.Total:N0} received; restarting");
                await server.DisposeAsync();
                server = await HooklineChild.StartAsync(instance, options, port, extra: extra, cancellationToken: context.CancellationToken);
                restartSeconds = timeline.Now - killedAt;
                await Task.Delay(phase, context.CancellationToken);
                await stop.CancelAsync();
                await loading;
            }

            var (account, allDeliveredAt) = await WaitForEverythingAsync(context, ledger, timeline, lease);
            var backToFullSpeed = BackToFullSpeed(timeline, killedAt, rateBeforeKill);
            context.Report.S6 = new CrashResult(
                ledger.Events, account.Lost, account.Duplicates, ledger.Ambiguous, account.Unacknowledged, rateBeforeKill,
                Math.Round(restartSeconds, 2), backToFullSpeed is { } seconds ? Math.Round(seconds, 2) : null,
                Math.Round(allDeliveredAt - killedAt, 2), lease.TotalSeconds);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    /// <summary>Seconds from the kill to the end of the first one-second window at full speed; null if it never came.</summary>
    private static double? BackToFullSpeed(Timeline timeline, double killedAt, double rateBeforeKill)
    {
        var samples = timeline.Samples;
        foreach (var sample in samples.Where(s => s.Seconds > killedAt))
        {
            if (timeline.ReceivedRate(sample.Seconds, sample.Seconds + 1) >= FullSpeed * rateBeforeKill
                && samples[^1].Seconds >= sample.Seconds + 1)
            {
                return sample.Seconds + 1 - killedAt;
            }
        }

        return null;
    }

    /// <summary>Waits (up to the lease plus half a minute) until every accepted event has arrived.</summary>
    private static async Task<(DeliveryAccount Account, double At)> WaitForEverythingAsync(ScenarioContext context, EventLedger ledger, Timeline timeline, TimeSpan lease)
    {
        var limit = Stopwatch.GetTimestamp() + (long)((lease.TotalSeconds + 30) * Stopwatch.Frequency);
        await using var progress = Progress.Start(context.Output, context.Label("S6 settle"), () => $"received {context.Sink.Total:N0} of {ledger.Events:N0} accepted (leases of the killed worker expire {lease.TotalSeconds:0} s after they were taken)");
        while (true)
        {
            if (context.Sink.Total >= ledger.Events)
            {
                var account = DeliveryAccount.Of(ledger, context.Sink.Arrivals(), _ => true, 1);
                if (account.Lost == 0 || Stopwatch.GetTimestamp() > limit)
                {
                    return (account, timeline.Take().Seconds);
                }
            }
            else if (Stopwatch.GetTimestamp() > limit)
            {
                return (DeliveryAccount.Of(ledger, context.Sink.Arrivals(), _ => true, 1), timeline.Take().Seconds);
            }

            await Task.Delay(200, context.CancellationToken);
        }
    }
}
