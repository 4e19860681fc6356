using System.Diagnostics;
using System.Threading.Channels;
using Hookline.Core.Observability;
using Hookline.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Hookline.Core.Delivery;

/// <summary>
/// Writes attempt results in batches: one transaction (one fsync on SQLite) for everything that finished
/// since the last write. A failed write is retried with the same batch; until it lands the deliveries stay
/// leased, so if this process dies they are attempted again by whoever takes the expired lease.
/// </summary>
internal sealed partial class CompletionWriter(
    IDeliveryStore store,
    IOptions<DeliveryOptions> options,
    TimeProvider time,
    HooklineMetrics metrics,
    ILogger<CompletionWriter> logger)
{
    private const int MaxBatch = 1024;

    /// <summary>
    /// A batch smaller than this waits <see cref="Linger"/> for more results before it is written. At a few thousand
    /// deliveries a second the writer is otherwise idle when each result arrives, so every one or two results cost a
    /// commit (an fsync on SQLite) of their own: ~800 a second at 1k events/s. Nobody waits on a result being
    /// recorded (the receiver already has the delivery, and the lease keeps it from being sent again meanwhile), so a
    /// few milliseconds of lingering cost nothing but a slightly wider at-least-once window should the process die.
    /// </summary>
    private const int LingerBelow = 64;

    /// <summary>Real time on purpose: a test's frozen clock must not hold results back.</summary>
    private static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(5);

    /// <summary>
    /// A refusal is asked again twice before the result is dropped: a constraint can be violated by a race that a
    /// moment later is gone, and a result is worth a few round trips.
    /// </summary>
    private const int RefusalsBeforeDropping = 3;

    private readonly Channel<Completion> _pending = Channel.CreateUnbounded<Completion>(new UnboundedChannelOptions { SingleReader = true });
    private long _written;
    private long _discarded;
    private long _unwritten;
    private long _dropped;

    public long Written => Interlocked.Read(ref _written);

    /// <summary>
    /// Results handed over and not yet committed. The dispatcher counts them as work it holds: when the store
    /// writes results more slowly than attempts finish, leasing waits for the writer instead of the queue growing
    /// without bound (and every unwritten result is a delivery sent again should this process die).
    /// </summary>
    public long Unwritten => Interlocked.Read(ref _unwritten);

    public long Discarded => Interlocked.Read(ref _discarded);

    /// <summary>Results the store refused on their own, again and again, and that were given up (their deliveries come back when the lease runs out).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Raised after each written batch with the webhooks that batch disabled.</summary>
    public event Action<IReadOnlyList<string>>? WebhooksDisabled;

    /// <summary>Raised after each written batch (the notification sender wakes on it).</summary>
    public event Action? BatchWritten;

    public void Add(Completion completion)
    {
        Interlocked.Increment(ref _unwritten);
        _pending.Writer.TryWrite(completion);
    }

    public void Complete() => _pending.Writer.TryComplete();

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var batch = new List<Completion>(MaxBatch);
        var reader = _pending.Reader;
        try
        {
            while (await reader.WaitToReadAsync(cancellationToken))
            {
                Take(reader, batch);
                if (batch.Count < LingerBelow)
                {
                    await Task.Delay(Linger, CancellationToken.None);
                    Take(reader, batch);
                }

                await WriteAsync(batch, cancellationToken);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private static void Take(ChannelReader<Completion> reader, List<Completion> batch)
    {
        while (batch.Count < MaxBatch && reader.TryRead(out var completion))
        {
            batch.Add(completion);
        }
    }

    /// <summary>
    /// Writes <paramref name="batch"/>, waiting out a store that is unreachable or busy for as long as it takes. When the
    /// store refuses what the batch holds (<see cref="IDeliveryStore.RefusesData"/>), the batch is written in halves
    /// until the refused result stands alone, so one bad result never holds back every result behind it; a result
    /// refused <see cref="RefusalsBeforeDropping"/> times on its own is dropped (<see cref="Dropped"/>).
    /// </summary>
    private async Task WriteAsync(List<Completion> batch, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(100);
        var refusals = 0;
        while (true)
        {
            try
            {
                var started = Stopwatch.GetTimestamp();
                var report = await store.CompleteAsync(new CompletionBatch(batch, time.GetUtcNow(), options.Value.DisableAfter), CancellationToken.None);
                metrics.ResultsWritten(started, report.DisabledWebhooks.Count);
                Interlocked.Add(ref _unwritten, -batch.Count);
                Interlocked.Add(ref _written, report.Applied);
                if (report.Discarded > 0)
                {
                    Interlocked.Add(ref _discarded, report.Discarded);
                    Log.StaleResultsDiscarded(logger, report.Discarded);
                }

                foreach (var webhookId in report.DisabledWebhooks)
                {
                    Log.WebhookDisabled(logger, webhookId);
                }

                if (report.DisabledWebhooks.Count > 0)
                {
                    WebhooksDisabled?.Invoke(report.DisabledWebhooks);
                }

                BatchWritten?.Invoke();

                return;
            }
            catch (Exception e) when (e is not OperationCanceledException && store.RefusesData(e) && batch.Count > 1)
            {
                Log.BatchRefused(logger, e, batch.Count);
                var half = batch.Count / 2;
                await WriteAsync(batch.GetRange(0, half), cancellationToken);
                await WriteAsync(batch.GetRange(half, batch.Count - half), cancellationToken);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException && store.RefusesData(e) && ++refusals >= RefusalsBeforeDropping)
            {
                // Its delivery stays leased to this worker until the lease runs out, then it is attempted again.
                var dropped = batch[0];
                Log.ResultDropped(logger, e, dropped.DeliveryId, dropped.AttemptNumber, refusals);
                Interlocked.Add(ref _unwritten, -1);
                Interlocked.Increment(ref _dropped);
                metrics.ResultDropped();
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Log.WriteFailed(logger, e, batch.Count, delay);
                await Task.Delay(delay, time, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(2001, LogLevel.Information, "Discarded {Count} results of deliveries whose lease had passed to another worker")]
        public static partial void StaleResultsDiscarded(ILogger logger, int count);

        [LoggerMessage(2002, LogLevel.Warning, "Webhook {WebhookId} disabled after failing for the whole disable window")]
        public static partial void WebhookDisabled(ILogger logger, string webhookId);

        [LoggerMessage(2003, LogLevel.Error, "Could not record {Count} attempt results; retrying in {Delay}")]
        public static partial void WriteFailed(ILogger logger, Exception exception, int count, TimeSpan delay);

        [LoggerMessage(2004, LogLevel.Warning, "The store refused a batch of {Count} attempt results; writing it in halves to set the refused result apart")]
        public static partial void BatchRefused(ILogger logger, Exception exception, int count);

        [LoggerMessage(2005, LogLevel.Error, "The store refused the result of attempt {AttemptNumber} of delivery {DeliveryId} {Refusals} times; dropped it. The delivery is attempted again when its lease runs out")]
        public static partial void ResultDropped(ILogger logger, Exception exception, string deliveryId, int attemptNumber, int refusals);
    }
}
