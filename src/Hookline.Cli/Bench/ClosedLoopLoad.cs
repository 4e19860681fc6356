using System.Diagnostics;

namespace Hookline.Cli.Bench;

/// <summary>
/// Ingestion as fast as Hookline takes it, in batches, from a few concurrent loops, but never more than
/// <c>window</c> deliveries ahead of the sink. Without that bound a run would measure how fast a queue
/// grows rather than the steady pipeline; with it, the queue is always deep enough to keep every stage busy.
/// <paramref name="eventsPerRequest"/> is how many events <paramref name="body"/> holds.
/// </summary>
internal sealed class ClosedLoopLoad(PlatformClient client, byte[] body, int eventsPerRequest, EventLedger ledger, LatencySamples acks)
{
    private long _inFlight;

    /// <summary>
    /// Events in requests sent and not yet answered. Hookline hands a request's deliveries to its workers as soon as
    /// they are committed, before its answer is back, so the sink can count an event before the ledger has it: what
    /// is outstanding is what the ledger accepted plus this, less what arrived.
    /// </summary>
    public long EventsInFlight => Interlocked.Read(ref _inFlight);

    /// <summary>
    /// Events sent: accepted by the ledger or still in flight. In flight is read first: a loop moves a request into the
    /// ledger before out of flight, so a request answered between the two reads is counted twice, never not at all.
    /// </summary>
    public long EventsSent
    {
        get
        {
            var inFlight = EventsInFlight;
            return inFlight + ledger.Events;
        }
    }

    public Task RunAsync(int loops, Func<long> outstanding, long window, CancellationToken stop)
        => Task.WhenAll(Enumerable.Range(0, loops).Select(_ => Task.Run(() => LoopAsync(outstanding, window, stop), CancellationToken.None)));

    private async Task LoopAsync(Func<long> outstanding, long window, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            if (outstanding() > window)
            {
                await Pause(1, stop);
                continue;
            }

            var sent = Stopwatch.GetTimestamp();
            Accepted? accepted;
            Interlocked.Add(ref _inFlight, eventsPerRequest);
            try
            {
                // Not cancelled by stop: a request cut off by the bench itself would count as ambiguous.
                accepted = await client.IngestAsync(body, batch: true, CancellationToken.None);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
                // The server died under the request (S6) or timed out: it may or may not have committed.
                Interlocked.Add(ref _inFlight, -eventsPerRequest);
                ledger.CutOff();
                await Pause(50, stop);
                continue;
            }

            if (accepted is null)
            {
                Interlocked.Add(ref _inFlight, -eventsPerRequest);
                ledger.Refuse();
                await Pause(10, stop);
                continue;
            }

            acks.Add(Ticks.Ms(Stopwatch.GetTimestamp() - sent));

            // Into the ledger before out of flight (EventsSent relies on the order).
            ledger.Accept(accepted, sent);
            Interlocked.Add(ref _inFlight, -eventsPerRequest);
        }
    }

    private static async Task Pause(int milliseconds, CancellationToken stop)
    {
        try
        {
            await Task.Delay(milliseconds, stop);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
