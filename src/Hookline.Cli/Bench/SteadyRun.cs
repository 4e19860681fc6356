using System.Diagnostics;

namespace Hookline.Cli.Bench;

/// <summary>
/// A steady phase (S1, S3, S4): closed-loop batched ingestion for the options' duration, rates measured after
/// the warm-up, then the load stops and the bench waits (bounded) for everything accepted to arrive before
/// counting lost and duplicated deliveries. Webhooks <c>0 … healthy-1</c> are the ones counted.
/// </summary>
internal sealed record SteadyPlan(IHookline Hookline, Sink Sink, string AccountId, int EventsPerRequest, int HealthyWebhooks, string Label)
{
    /// <summary>
    /// Requests in flight where each request fans out to about a hundred deliveries (S3, S4). With S1's two, S3 ×100
    /// measured the generator rather than Hookline: a one-event request waits for the commit of its hundred deliveries
    /// (about 16 ms), so two in flight fed some 11,000 deliveries a second, and the sink had next to nothing
    /// outstanding (0–118) all along: Hookline delivered as fast as it was fed. Four fed 16,000–17,100/s, S1's level,
    /// at the cost of longer acks (each waits behind more work); the window still bounds what is outstanding. S1 keeps two, and
    /// so does S4, whose p99 is compared with S1's (<see cref="IsolationScenario"/>): there four only added contention
    /// (12,032 and 12,724/s against 13,123 and 15,295/s, A/B). Measured again once busy lanes kept their depth, four raised
    /// SQLite's S1 by about a fifth (its writer groups whatever waits) and not PostgreSQL's, whose S4 p99 then
    /// reached a second, and S3 ×100 would read 70 % of such an S1 (docs/benchmarks.md, "Before and after").
    /// </summary>
    public const int FanOutLoops = 4;

    /// <summary>Concurrent ingestion loops: two keep one request in flight while the other's answer is parsed.</summary>
    public int Loops { get; init; } = 2;

    /// <summary>Also wait for every accepted delivery's result to be recorded (all webhooks healthy).</summary>
    public bool WaitForRecorded { get; init; } = true;
}

internal sealed record SteadyResult(
    long Events, long Deliveries, double Seconds, double ReceivedPerSecond, double? RecordedPerSecond, Percentiles Ack, DeliveryAccount Account, double DrainSeconds,
    double CpuMicrosecondsPerDelivery, double CoresUsed, double? OtherCpuMicrosecondsPerDelivery)
{
    /// <summary>Accepted → 2xx recorded when Hookline's results are visible; otherwise what the sink received.</summary>
    public double DeliveriesPerSecond => RecordedPerSecond ?? ReceivedPerSecond;
}

internal static class SteadyRun
{
    /// <summary>
    /// Runs the plan's load for the phase's duration, then waits for what was accepted to arrive. Stops early, with
    /// <see cref="OperationCanceledException"/>, when <paramref name="cancellationToken"/> is cancelled (an interrupted run).
    /// </summary>
    public static async Task<SteadyResult> RunAsync(SteadyPlan plan, BenchOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        var sink = plan.Sink;
        sink.Reset();
        var ledger = new EventLedger();
        var acks = new LatencySamples();
        using var client = new PlatformClient(plan.Hookline.BaseAddress);
        var load = new ClosedLoopLoad(client, BenchPayload.Request(plan.AccountId, plan.EventsPerRequest), plan.EventsPerRequest, ledger, acks);
        long Received() => sink.ReceivedBelow(plan.HealthyWebhooks);
        long Outstanding() => (load.EventsSent * plan.HealthyWebhooks) - Received();

        await using var timeline = new Timeline(Received, () => plan.Hookline.Recorded);
        double end;
        await using (Progress.Start(output, plan.Label, () => Status(timeline, Outstanding())))
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            stop.CancelAfter(options.Duration);
            await load.RunAsync(plan.Loops, Outstanding, options.Window, stop.Token);
            end = timeline.Take().Seconds;
        }

        cancellationToken.ThrowIfCancellationRequested();

        if (ledger.Events == 0)
        {
            throw new InvalidOperationException($"Hookline accepted no event ({ledger.Refused} refused, {ledger.Ambiguous} cut off): {client.LastRefusal}");
        }

        var warmup = Math.Min(options.Warmup.TotalSeconds, end / 3);
        var drained = await DrainAsync(plan, ledger, Received, output, cancellationToken);
        var account = DeliveryAccount.Of(ledger, sink.Arrivals(), w => w < plan.HealthyWebhooks, plan.HealthyWebhooks);
        return new SteadyResult(
            ledger.Events, ledger.Events * plan.HealthyWebhooks, Math.Round(end - warmup, 2),
            timeline.ReceivedRate(warmup, end), timeline.RecordedRate(warmup, end), acks.Summary(), account, drained,
            timeline.CpuMicrosecondsPerItem(warmup, end), timeline.CoresUsed(warmup, end), timeline.OtherCpuMicrosecondsPerItem(warmup, end));
    }

    public static string Status(Timeline timeline, long outstanding)
    {
        var now = timeline.Now;
        return $"received {timeline.Samples[^1].Received,10:N0}  {timeline.ReceivedRate(now - 1, now),8:N0}/s  outstanding {outstanding:N0}";
    }

    /// <summary>Waits until the sink has every accepted delivery (and Hookline recorded them); seconds taken.</summary>
    private static async Task<double> DrainAsync(SteadyPlan plan, EventLedger ledger, Func<long> received, TextWriter output, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var expected = ledger.Events * plan.HealthyWebhooks;
        var limit = TimeSpan.FromSeconds(30);
        while (Stopwatch.GetElapsedTime(started) < limit)
        {
            var recorded = plan.Hookline.Recorded;
            if (received() >= expected && (!plan.WaitForRecorded || recorded is null || recorded >= ledger.Deliveries))
            {
                return Math.Round(Ticks.SinceSeconds(started), 2);
            }

            await Task.Delay(20, cancellationToken);
        }

        await output.WriteLineAsync($"    {plan.Label}: after {limit.TotalSeconds:0} s, {expected - received():N0} accepted deliveries still missing"
            + (plan.Hookline.Results is { } results ? $"; of {ledger.Deliveries:N0} results Hookline has {results}" : ""));
        return Math.Round(Ticks.SinceSeconds(started), 2);
    }
}
