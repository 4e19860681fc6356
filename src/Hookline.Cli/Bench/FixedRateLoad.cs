using System.Diagnostics;

namespace Hookline.Cli.Bench;

/// <summary>What one phase of a load got: its accepted events and their ack latencies.</summary>
internal sealed class LoadPhase
{
    public EventLedger Ledger { get; } = new();

    public LatencySamples Acks { get; } = new();

    /// <summary>How late each request left, after its due time: the generator's own delay, part of every ack latency.</summary>
    public LatencySamples Lateness { get; } = new();
}

/// <summary>
/// Open-loop ingestion at a fixed rate, one event per request, as a platform publishes events as they happen.
/// Request <c>k</c> is due at <c>start + k/rate</c> and its latencies count from that moment, not from when it
/// actually left: a server that stalls cannot slow the generator down and hide its own queueing
/// ("coordinated omission"). A dedicated thread issues the requests so the thread pool's load cannot delay them.
/// The stream is one, without a pause: requests due in its first <c>warmup</c> are recorded in
/// <paramref name="warmup"/>, the rest in <paramref name="measured"/>.
/// </summary>
internal sealed class FixedRateLoad(PlatformClient client, byte[] body, LoadPhase warmup, LoadPhase measured)
{
    /// <summary>Requests in flight beyond which due requests are skipped and counted, so an overloaded run stays bounded.</summary>
    public const int MaxOutstanding = 4096;
    private long _outstanding;
    private long _skipped;

    public long Skipped => Interlocked.Read(ref _skipped);

    public long Outstanding => Interlocked.Read(ref _outstanding);

    /// <summary>Issues the stream; <paramref name="stop"/> ends it early (an interrupted run), and the requests already sent are awaited.</summary>
    public async Task RunAsync(int rate, TimeSpan warmupTime, TimeSpan duration, CancellationToken stop)
    {
        var requests = new List<Task>();
        var warm = (long)(rate * warmupTime.TotalSeconds);
        var total = warm + (long)(rate * duration.TotalSeconds);
        var issuer = new Thread(() =>
        {
            var start = Stopwatch.GetTimestamp();
            long issued = 0;
            while (issued < total && !stop.IsCancellationRequested)
            {
                var due = Math.Min(total, (long)(Ticks.Seconds(Stopwatch.GetTimestamp() - start) * rate) + 1);
                for (; issued < due; issued++)
                {
                    var intended = start + (long)(issued * (double)Stopwatch.Frequency / rate);
                    if (Interlocked.Read(ref _outstanding) >= MaxOutstanding)
                    {
                        Interlocked.Increment(ref _skipped);
                        continue;
                    }

                    Interlocked.Increment(ref _outstanding);
                    requests.Add(SendAsync(intended, issued < warm ? warmup : measured));
                }

                if (issued < total)
                {
                    PreciseSleep.Until(start + (long)(issued * (double)Stopwatch.Frequency / rate));
                }
            }
        })
        { IsBackground = true, Name = "bench fixed-rate issuer" };
        issuer.Start();
        await Task.Run(issuer.Join);
        await Task.WhenAll(requests);
    }

    private async Task SendAsync(long intended, LoadPhase phase)
    {
        phase.Lateness.Add(Ticks.Ms(Stopwatch.GetTimestamp() - intended));
        try
        {
            var accepted = await client.IngestAsync(body, batch: false, CancellationToken.None);
            if (accepted is null)
            {
                phase.Ledger.Refuse();
                return;
            }

            phase.Acks.Add(Ticks.Ms(Stopwatch.GetTimestamp() - intended));
            phase.Ledger.Accept(accepted, intended);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            phase.Ledger.CutOff();
        }
        finally
        {
            Interlocked.Decrement(ref _outstanding);
        }
    }
}
