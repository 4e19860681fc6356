using System.Threading.Channels;
using Hookline.Core.Events;
using Hookline.Core.Observability;
using Hookline.Core.Secrets;
using Hookline.Core.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Hookline.Core.Delivery;

/// <summary>
/// The worker: leases due deliveries from the store in batches, runs them through <see cref="DeliveryLanes"/>,
/// and hands results to the <see cref="CompletionWriter"/>. Fresh deliveries skip the store round trip:
/// ingestion inserts them already leased to this worker (<see cref="GrantForIngestion"/>) and passes them
/// in memory (<see cref="Accept"/>), so they go out within milliseconds of the commit.
/// </summary>
internal sealed partial class Dispatcher : BackgroundService
{
    private readonly IDeliveryStore _store;
    private readonly WebhookSender _sender;
    private readonly RetrySchedule _schedule;
    private readonly SecretCache _secrets;
    private readonly CompletionWriter _writer;
    private readonly IWorkSignal _signal;
    private readonly DeliveryOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<Dispatcher> _logger;
    private readonly DeliveryLanes _lanes;
    private readonly OrdinaryRoundPacing _ordinary;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly int _holdLimit;
    private volatile bool _accepting;

    /// <summary>The last lease round stopped at a per-webhook share or at the room it had: more is due right now.</summary>
    private volatile bool _heldBack;

    /// <summary>A lease round or grant found no room; the next written batch of results wakes the poll loop.</summary>
    private volatile bool _starved;
    private long _leaseRounds;
    private long _granted;
    private long _leasedByRounds;
    private readonly HooklineMetrics _metrics;

    public Dispatcher(
        IDeliveryStore store,
        WebhookSender sender,
        RetrySchedule schedule,
        SecretProtector protector,
        CompletionWriter writer,
        IWorkSignal signal,
        IOptions<DeliveryOptions> options,
        TimeProvider time,
        HooklineMetrics metrics,
        ILogger<Dispatcher> logger)
    {
        _store = store;
        _sender = sender;
        _schedule = schedule;
        _secrets = new SecretCache(protector);
        _writer = writer;
        _signal = signal;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _lanes = new DeliveryLanes(_options.MaxConcurrency, _options.MaxConcurrencyPerWebhook, _options.MaxLaneDepth, _options.MaxLaneBytes, time, RunAttemptAsync);
        _lanes.LaneUnsaturated += WakeLoop;
        _ordinary = new OrdinaryRoundPacing(time, _options.PollInterval / 4);
        _writer.BatchWritten += OnResultsWritten;
        // Hold at most two rounds of work: enough to keep every slot busy, few enough that nothing held
        // waits long enough for its lease to run out.
        _holdLimit = _options.MaxConcurrency * 2;
        Owner = $"{Environment.MachineName}/{Environment.ProcessId}/{Ids.RandomString(6)}";
        _metrics = metrics;
        metrics.Meter.CreateObservableGauge("hookline.dispatcher.held", () => Held, "{delivery}", "Deliveries this worker holds: waiting for a slot, in flight, or done with the result not yet written.");
        metrics.Meter.CreateObservableGauge("hookline.dispatcher.in_flight", () => _lanes.InFlight, "{attempt}", "Attempts in flight right now.");
        metrics.Meter.CreateObservableGauge("hookline.dispatcher.webhooks_holding", () => _lanes.Holding, "{webhook}", "Webhooks this worker holds back after consecutive failed attempts: one probe at a time, at most every few seconds.");
        metrics.Meter.CreateObservableCounter("hookline.dispatcher.lease_rounds", () => LeaseRounds, "{round}", "Lease queries completed since start.");
        metrics.Meter.CreateObservableCounter(
            "hookline.dispatcher.granted", () => Interlocked.Read(ref _granted), "{delivery}",
            "Deliveries this worker took from ingestion grants, handed over in memory after the commit.");
        metrics.Meter.CreateObservableCounter(
            "hookline.dispatcher.leased", () => Interlocked.Read(ref _leasedByRounds), "{delivery}",
            "Deliveries this worker took by lease rounds: retries, and what ingestion could not grant it (on PostgreSQL the dearer path).");
    }

    /// <summary>This worker's name in lease columns.</summary>
    public string Owner { get; }

    public int Held => _lanes.Count;

    /// <summary>Completed lease queries since start (a liveness signal for metrics and tests).</summary>
    public long LeaseRounds => Interlocked.Read(ref _leaseRounds);

    /// <summary>Due work was committed that this worker does not hold (a replay, another process's): looks for it now.</summary>
    public void Wake()
    {
        _ordinary.WorkArrived();
        WakeLoop();
    }

    /// <summary>Runs the poll loop now instead of at the next poll: room, or a hungry lane, for what the store holds.</summary>
    private void WakeLoop() => _wake.Writer.TryWrite(true);

    /// <summary>A lease for deliveries about to be ingested, or null when this worker is already full.</summary>
    public LeaseGrant? GrantForIngestion()
    {
        var room = Room();
        if (!_accepting || room <= 0)
        {
            return null;
        }

        var share = _lanes.ForIngestion();
        return new LeaseGrant(Owner, _time.GetUtcNow() + _options.LeaseDuration, room, share.PerWebhook, share.Excluded) { Deeper = share.Deeper };
    }

    /// <summary>
    /// How many more deliveries this worker may take: what it holds counts the attempts waiting or running and the
    /// results not yet written, so a store that records results more slowly than attempts finish slows leasing
    /// down to its pace (<see cref="CompletionWriter.Unwritten"/>).
    /// </summary>
    private int Room()
    {
        var room = (int)Math.Min(_holdLimit - _lanes.Runnable - _writer.Unwritten, _options.LeaseBatchSize);
        if (room <= 0)
        {
            _starved = true;
        }

        return room;
    }

    /// <summary>A written batch of results may have made the room a lease round or an ingestion grant found missing.</summary>
    private void OnResultsWritten()
    {
        if (_starved)
        {
            _starved = false;
            WakeLoop();
        }
    }

    /// <summary>
    /// The merchant acted on the webhook (see <see cref="DeliveryLanes.ClearFailures"/>): no hold for its next attempt here,
    /// and with a new <paramref name="url"/>, what waits here goes there.
    /// </summary>
    public void ClearFailures(string webhookId, string? url = null) => _lanes.ClearFailures(webhookId, url);

    /// <summary>
    /// What an ingestion leased to this worker goes straight to the lanes. What it could not lease (no room, or a
    /// webhook's share full) waits in the store: the ordinary round must not rest on it.
    /// </summary>
    public void Accept(IngestResult result)
    {
        if (result.Leased.Count > 0)
        {
            _lanes.Enqueue(result.Leased);
            Interlocked.Add(ref _granted, result.Leased.Count);
        }

        if (result.LeftForLeaseRounds > 0)
        {
            _ordinary.WorkArrived();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var writing = _writer.RunAsync(CancellationToken.None);
        // Work committed by other processes (an API-only node, a replay) wakes this worker; polling stays the safety net.
        using var woken = _signal.Subscribe(Wake);
        _accepting = true;
        Log.Started(_logger, Owner, _options.MaxConcurrency, _options.MaxConcurrencyPerWebhook);
        try
        {
            await PollAsync(stoppingToken);
        }
        finally
        {
            _accepting = false;
            _lanes.Stop();
            await DrainAsync();
            _writer.Complete();
            await writing;
        }
    }

    private async Task PollAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            // Deep lanes (fast endpoints) are fed in rounds of up to their depth, everyone else a cap's worth.
            var deep = _lanes.DeepShare() is { } share ? await LeaseAsync(share, stoppingToken) : Round.None;
            var normal = _ordinary.MayRest() ? Round.None : await LeaseOrdinaryAsync(stoppingToken);

            // Work that other processes committed arrives only through the store (no in-memory handoff), so a
            // round cut short by a webhook's share must not wait for the next poll: lease again as soon as an
            // attempt frees a slot (RunAttemptAsync wakes us). Nor may a deep lane still hungry after a deep round that
            // found more due: a round that lands on a lane run low leaves it at half its depth or below, so no attempt
            // sees it fall to half and asks for more (LaneUnsaturated), and if the lane empties while the ordinary round
            // runs, before _heldBack is set, nothing wakes us (on PostgreSQL, in a drain, a lane ran dry and waited out
            // the poll interval about once in twenty seconds; docs/benchmarks.md).
            _heldBack = deep.Full || deep.Capped || normal.Full || normal.Capped;
            if (!deep.Full && !normal.Full && !(deep.Capped && _lanes.DeepShare() is not null))
            {
                await WaitForWorkAsync(stoppingToken);
            }
        }
    }

    /// <summary>The ordinary round, and what <see cref="OrdinaryRoundPacing"/> learns from it.</summary>
    private async Task<Round> LeaseOrdinaryAsync(CancellationToken stoppingToken)
    {
        var share = _lanes.NormalShare();
        _ordinary.Starting();
        var round = await LeaseAsync(share, stoppingToken);
        if (round.Ran)
        {
            _ordinary.Finished(round.Leased, share.LeavesOutOnlyDeepLanes);
        }

        return round;
    }

    /// <summary>One lease round: whether it ran, what it leased, whether it filled its room, and whether some webhook got its whole share.</summary>
    private async Task<Round> LeaseAsync(LaneShare share, CancellationToken stoppingToken)
    {
        var room = Room();
        if (room <= 0)
        {
            return Round.None;
        }

        try
        {
            var leased = await _store.LeaseDueAsync(
                new LeaseRequest(Owner, _time.GetUtcNow(), _options.LeaseDuration, room, share.PerWebhook, share.Excluded), stoppingToken);
            _lanes.Enqueue(leased);
            _lanes.Settle(share, leased, full: leased.Count == room);
            Interlocked.Increment(ref _leaseRounds);
            Interlocked.Add(ref _leasedByRounds, leased.Count);
            return new Round(true, leased.Count, leased.Count == room, leased.CountBy(d => d.WebhookId).Any(c => c.Value >= share.PerWebhook));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.LeaseFailed(_logger, e);
            return Round.None;
        }
    }

    private async Task WaitForWorkAsync(CancellationToken stoppingToken)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var timer = Task.Delay(_options.PollInterval, _time, wait.Token);
        var woken = _wake.Reader.WaitToReadAsync(wait.Token).AsTask();
        await Task.WhenAny(timer, woken);
        await wait.CancelAsync();
        _wake.Reader.TryRead(out _);
    }

    private async Task DrainAsync()
    {
        // Let in-flight attempts finish (each is bounded by the attempt timeout) so their results are recorded;
        // queued ones are left to their leases. Real time on purpose: a test's frozen clock must not hang shutdown.
        try
        {
            await _lanes.WhenNothingInFlightAsync().WaitAsync(_options.Timeout + TimeSpan.FromSeconds(1));
        }
        catch (TimeoutException)
        {
            Log.DrainTimedOut(_logger, _lanes.InFlight);
        }
    }

    /// <summary>One attempt: whether the endpoint took it (null when nothing was sent), for the lane's hold.</summary>
    private async Task<bool?> RunAttemptAsync(LeasedDelivery delivery)
    {
        try
        {
            var now = _time.GetUtcNow();
            if (now >= delivery.LeaseExpiresAt)
            {
                // Waited so long the lease may belong to someone else now: do not send, let the store decide.
                return null;
            }

            var attemptNumber = delivery.AttemptsMade + 1;
            if (now > delivery.Deadline)
            {
                _writer.Add(new Completion(delivery.Id, delivery.WebhookId, delivery.LeaseToken, attemptNumber, delivery.Trigger, now, null, null, delivery.Deferred));
                return null;
            }

            var signer = delivery.SecretCiphertext is null ? null : _secrets.SignerFor(delivery.SecretCiphertext, delivery.AccountId, delivery.WebhookId);
            var outcome = await _sender.SendAsync(new OutgoingRequest(delivery.Url, delivery.EventId, delivery.Body, signer), CancellationToken.None);
            _metrics.Attempted(outcome);
            var next = _schedule.Next(attemptNumber, outcome, _time.GetUtcNow(), delivery.Deadline);
            _writer.Add(new Completion(delivery.Id, delivery.WebhookId, delivery.LeaseToken, attemptNumber, delivery.Trigger, now, outcome, next, delivery.Deferred));
            if (_heldBack || (next is { } due && due - _time.GetUtcNow() < _options.PollInterval))
            {
                WakeLoop();
            }

            return outcome.Succeeded;
        }
        catch (Exception e)
        {
            // A bug or an undecryptable secret: the lease expires and the delivery comes back; log loudly.
            Log.AttemptCrashed(_logger, e, delivery.Id);
            return null;
        }
    }

    /// <summary>What a lease round came to; <see cref="None"/> when no round ran (no room, or the store failed).</summary>
    private readonly record struct Round(bool Ran, int Leased, bool Full, bool Capped)
    {
        public static readonly Round None = new(false, 0, false, false);
    }

    private static partial class Log
    {
        [LoggerMessage(1001, LogLevel.Information, "Dispatcher {Owner} started: {MaxConcurrency} attempts in flight at most, {PerWebhook} per webhook")]
        public static partial void Started(ILogger logger, string owner, int maxConcurrency, int perWebhook);

        [LoggerMessage(1002, LogLevel.Error, "Leasing due deliveries failed; will retry at the next poll")]
        public static partial void LeaseFailed(ILogger logger, Exception exception);

        [LoggerMessage(1004, LogLevel.Warning, "Stopping with {Count} attempts still in flight; their deliveries return when the leases expire")]
        public static partial void DrainTimedOut(ILogger logger, int count);

        [LoggerMessage(1003, LogLevel.Error, "Attempt of delivery {DeliveryId} failed unexpectedly; it will be retried when its lease expires")]
        public static partial void AttemptCrashed(ILogger logger, Exception exception, string deliveryId);
    }
}
