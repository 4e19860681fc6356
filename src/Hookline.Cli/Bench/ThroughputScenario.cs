namespace Hookline.Cli.Bench;

/// <summary>
/// S0 and S1 side by side: half of S0, then S1 (batched ingestion, one webhook, deliveries per second from
/// acceptance to the recorded 2xx), then the other half of S0. S0 brackets S1 so that another process's
/// burst on this shared machine shows up as a gap between the two halves instead of skewing the ratio; each half runs
/// in a process of its own (<see cref="RawPostProcess"/>). After
/// the store's other scenarios, as steps of their own, S1's ingestion alone (<see cref="IngestionResult"/>), for the
/// split of a delivery's cost, and S1's floor in an S0 bracket of its own (<see cref="FloorResult"/>).
/// </summary>
internal static class ThroughputScenario
{
    public static async Task RunAsync(ScenarioContext context)
    {
        var options = context.Options;
        var half = TimeSpan.FromTicks(options.Duration.Ticks / 2);
        var before = await RawPostProcess.MeasureAsync(options, half, context.Output, context.Label("S0 before"), context.CancellationToken);

        try
        {
            if (options.Runs("S1"))
            {
                await RunS1Async(context);
            }
        }
        finally
        {
            // Not after an interrupt: the run is stopping, and S0 alone would be measured for nothing.
            if (!context.CancellationToken.IsCancellationRequested)
            {
                var after = await RawPostProcess.MeasureAsync(options, half, context.Output, context.Label("S0 after"), context.CancellationToken);
                Record(context, before, after);
            }
        }
    }

    /// <summary>S1's load for half its duration, for an account with no webhook: ingestion's own cost per event.</summary>
    public static async Task RunIngestionAloneAsync(ScenarioContext context)
    {
        var options = context.Options;
        var duration = TimeSpan.FromTicks(options.Duration.Ticks / 2);
        var warmup = Math.Min(options.Warmup.TotalSeconds, duration.TotalSeconds / 3);
        var (instance, hookline) = await context.StartInProcessAsync();
        await using (instance)
        await using (hookline)
        {
            var accountId = await context.AccountWithWebhooksAsync(hookline, []);
            var ledger = new EventLedger(trackIds: false);
            using var client = new PlatformClient(hookline.BaseAddress);
            var load = new ClosedLoopLoad(client, BenchPayload.Request(accountId, options.BatchEvents), options.BatchEvents, ledger, new LatencySamples());
            var writer = WriterLoad.MeasureAsync(hookline.BaseAddress, TimeSpan.FromSeconds(warmup), duration);
            await using var timeline = new Timeline(() => ledger.Events, () => null);
            double end;
            await using (Progress.Start(context.Output, context.Label("S1 ingestion alone"), () => $"{ledger.Events:N0} events  {timeline.ReceivedRate(timeline.Now - 1, timeline.Now):N0}/s"))
            {
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
                stop.CancelAfter(duration);
                // Nothing is delivered, so nothing is outstanding: the loops ingest as fast as Hookline answers.
                await load.RunAsync(2, () => 0, options.Window, stop.Token);
                end = timeline.Take().Seconds;
            }

            context.CancellationToken.ThrowIfCancellationRequested();

            if (ledger.Events == 0)
            {
                throw new InvalidOperationException($"Hookline accepted no event ({ledger.Refused} refused, {ledger.Ambiguous} cut off): {client.LastRefusal}");
            }

            var perSecond = timeline.ReceivedRate(warmup, end);
            context.Report.S1Ingestion = new IngestionResult(
                Math.Round(end - warmup, 2), perSecond, timeline.CpuMicrosecondsPerItem(warmup, end), timeline.CoresUsed(warmup, end),
                (await writer)?.CpuMicrosecondsPerItem(perSecond));
        }
    }

    /// <summary>
    /// S1's load against <see cref="MinimalForwarder"/> twice, between two halves of S0: first keeping what it must not
    /// lose where this store would (an append-only file beside SQLite's, two unindexed tables on PostgreSQL), the most any
    /// durable design on this store could deliver here; then keeping the records an API reads through, indexed
    /// (<see cref="ForwarderRecords"/>), what the leanest forwarder that can also answer for its deliveries could.
    /// Last, with the ingestion alone: together they write as many events as S1 does twice again, and a measured
    /// scenario after them would pay for the disk's share of that.
    /// </summary>
    public static async Task RunFloorAsync(ScenarioContext context)
    {
        var options = context.Options;
        var half = TimeSpan.FromTicks(options.Duration.Ticks / 2);
        var before = await RawPostProcess.MeasureAsync(options, half, context.Output, context.Label("S0 before floor"), context.CancellationToken);
        var floor = await MeasureFloorAsync(context, records: false);
        var records = await MeasureFloorAsync(context, records: true);
        var after = await RawPostProcess.MeasureAsync(options, half, context.Output, context.Label("S0 after floor"), context.CancellationToken);
        var s0 = Math.Round((before.PerSecond + after.PerSecond) / 2, 1);
        FloorResult Against(FloorResult result) => result with
        {
            S0PerSecond = s0,
            RatioToS0 = s0 > 0 ? result.DeliveriesPerSecond / s0 : null,
            S1RatioToFloor = context.Report.S1 is { } s1 && result.DeliveriesPerSecond > 0 ? s1.DeliveriesPerSecond / result.DeliveriesPerSecond : null,
        };
        context.Report.S1Floor = Against(floor);
        context.Report.S1FloorRecords = Against(records);
    }

    private static async Task<FloorResult> MeasureFloorAsync(ScenarioContext context, bool records)
    {
        var options = context.Options;
        await using var instance = await context.Store.NewInstanceAsync(context.CancellationToken);
        var postgres = instance.Settings.TryGetValue("Storage:ConnectionString", out var connectionString);
        ForwarderLog log = (postgres, records) switch
        {
            (true, false) => new PostgresForwarderLog(connectionString!),
            (true, true) => new PostgresRecordsLog(connectionString!),
            (false, false) => new FileForwarderLog(Path.Combine(instance.DataDirectory, "forwarder.log")),
            (false, true) => new SqliteRecordsLog(Path.Combine(instance.DataDirectory, "forwarder-records.db")),
        };
        MinimalForwarder started;
        try
        {
            started = await MinimalForwarder.StartAsync(log, new Uri(context.Sink.Url(0)), options.Concurrency);
        }
        catch
        {
            log.Dispose();
            throw;
        }

        await using var floor = started;
        var run = await SteadyRun.RunAsync(
            new SteadyPlan(floor, context.Sink, BenchPayload.SampleAccount, options.BatchEvents, 1, context.Label(records ? "S1 floor, records" : "S1 floor")),
            options,
            context.Output,
            context.CancellationToken);
        return new FloorResult(
            run.Events, run.Seconds, run.DeliveriesPerSecond, null, null, null, run.Ack, run.Account.EndToEnd, run.Account.Lost, run.Account.Duplicates,
            run.CpuMicrosecondsPerDelivery, run.CoresUsed, run.OtherCpuMicrosecondsPerDelivery);
    }

    private static async Task RunS1Async(ScenarioContext context)
    {
        var options = context.Options;
        var (instance, hookline) = await context.StartInProcessAsync();
        await using (instance)
        await using (hookline)
        {
            var accountId = await context.AccountWithWebhooksAsync(hookline, [context.Sink.Url(0)]);
            var metrics = MetricsWindow.MeasureAsync(hookline.BaseAddress, options.Warmup, options.Duration);
            var run = await SteadyRun.RunAsync(new SteadyPlan(hookline, context.Sink, accountId, options.BatchEvents, 1, context.Label("S1")), options, context.Output, context.CancellationToken);
            var window = await metrics;
            context.Report.S1 = new ThroughputResult(
                options.BatchEvents, run.Events, run.Deliveries, run.Seconds, run.DeliveriesPerSecond, run.ReceivedPerSecond, run.RecordedPerSecond,
                null, run.Ack, run.Account.EndToEnd, run.Account.Lost, run.Account.Duplicates, run.DrainSeconds,
                run.CpuMicrosecondsPerDelivery, run.CoresUsed, WriterLoad.From(window), run.OtherCpuMicrosecondsPerDelivery, DispatchPaths.From(window));
        }
    }

    private static void Record(ScenarioContext context, RawPost before, RawPost after)
    {
        var options = context.Options;
        var s0 = Math.Round((before.PerSecond + after.PerSecond) / 2, 1);
        var latency = after.Latency.Count > 0 ? after.Latency : before.Latency;
        context.Report.S0 = new RawPostResult(
            options.Concurrency, BenchPayload.DeliveredBody().Length, before.Requests + after.Requests, s0, before.PerSecond, after.PerSecond, latency,
            Math.Round((before.CpuMicroseconds + after.CpuMicroseconds) / 2, 1), Math.Round((before.Cores + after.Cores) / 2, 2), after.ThreadPoolSpinLimit);
        if (context.Report.S1 is { } s1 && s0 > 0)
        {
            context.Report.S1 = s1 with { RatioToS0 = s1.DeliveriesPerSecond / s0 };
        }
    }
}
