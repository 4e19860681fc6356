namespace Hookline.Core.Delivery;

/// <summary>
/// The in-memory run queue of one worker: a lane per webhook with its own cap, lanes served round-robin
/// under a global cap. A slow endpoint fills its own lane and waits there; it cannot take the slots other
/// webhooks need.
/// </summary>
/// <remarks>
/// How much a lane may hold waiting (its depth) follows how fast its endpoint answers: as many deliveries as
/// it takes about <see cref="QueueBudget"/> to send at the measured pace, between the per-webhook cap and
/// <c>maxDepth</c>, and no more than <c>maxDepthBytes</c> of bodies at the average size of the lane's recent ones.
/// A busy lane may also hold what it finished in a <see cref="QueueBudget"/> at its recent rate, when that is more:
/// a stall of the whole process (a collection, a starved thread pool) lengthens every attempt in flight at once, and
/// for a moment the pace of a lane finishing thousands a second reads tens of milliseconds, its depth falls below what
/// already waits, and the next ingestion's deliveries for it go the long way, through the store and a lease round. Its
/// rate over a window or two hardly moves. A lane that stops finishing loses its rate within two windows.
/// A hanging endpoint keeps the shallow lane it always had (a cap's worth waiting, so leases never age in memory);
/// a fast one goes deep, so one lease round or one ingestion grant feeds it for a whole round trip instead of a
/// cap's worth of requests, which on a single hot webhook is the difference between a database round trip per 16
/// deliveries and one per few hundred.
/// <para>
/// A lane whose last <see cref="HoldAfter"/> attempts all failed holds: it starts nothing for a while
/// (<see cref="FirstHold"/>, doubling after each failed probe up to <see cref="LongestHold"/>), then one probe at a
/// time until an attempt succeeds. An endpoint that refuses connections fails in well under a millisecond, so without
/// this its lane would measure as fast as a healthy one, go deep, and spend thousands of attempts a second, each a
/// result to record and a retry to lease, on an endpoint that is down (docs/benchmarks.md, S4). While it holds, the
/// lane is as shallow as a hanging endpoint's and its waiting deliveries do not count against the worker's room.
/// Nothing is recorded for deliveries that wait: their attempts are late, never skipped or invented.
/// </para>
/// </remarks>
internal sealed class DeliveryLanes(int maxConcurrency, int maxPerWebhook, int maxDepth, long maxDepthBytes, TimeProvider time, Func<LeasedDelivery, Task<bool?>> run)
{
    /// <summary>Consecutive failed attempts after which a lane holds.</summary>
    public const int HoldAfter = 5;

    /// <summary>How long a lane holds when it starts to; each failed probe doubles it.</summary>
    public static readonly TimeSpan FirstHold = TimeSpan.FromSeconds(1);

    /// <summary>The longest hold: a probe at least this often, far below any lease, so waiting deliveries keep theirs.</summary>
    public static readonly TimeSpan LongestHold = TimeSpan.FromSeconds(5);

    /// <summary>Time a lane's deepest waiting delivery should wait at the pace measured; far below any lease.</summary>
    public static readonly TimeSpan QueueBudget = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The span over which a lane counts the attempts it finishes, for its rate; a lane whose current window has run two of
    /// them (nothing finished for the last one at least) has no rate (<see cref="Lane.RateAt"/>).
    /// </summary>
    public static readonly TimeSpan RateWindow = TimeSpan.FromMilliseconds(100);

    /// <summary>Lanes emptied recently remember their pace (bounded: forgotten all at once past this many).</summary>
    private const int RememberedLanes = 4096;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Lane> _lanes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Remembered> _remembered = new(StringComparer.Ordinal);
    private readonly Queue<Lane> _ready = new();
    private readonly int _maxDepth = Math.Max(maxDepth, maxPerWebhook);
    private int _inFlight;
    private int _queued;
    private bool _stopped;
    private TaskCompletionSource? _idle;

    /// <summary>
    /// Raised (outside the lock) when a lane's waiting work falls to half its depth: its webhook was left out of
    /// lease rounds (or took a deep round) and may have more work due; and when a deep lane with more due ran dry.
    /// </summary>
    public event Action? LaneUnsaturated;

    /// <summary>Deliveries held by this worker: queued plus in flight.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _queued + _inFlight;
            }
        }
    }

    /// <summary>
    /// Work that can use a global slot soon: in flight, plus queued in lanes below their cap. Deliveries
    /// queued behind a saturated lane do not count, or a few slow endpoints would fill the worker and stop it
    /// from taking anyone else's work.
    /// </summary>
    public int Runnable
    {
        get
        {
            lock (_gate)
            {
                return _inFlight + _lanes.Values.Where(l => l.InFlight < maxPerWebhook && !l.Streak.Holding).Sum(l => l.Waiting.Count);
            }
        }
    }

    /// <summary>Webhooks whose lanes hold after consecutive failures (with work waiting or not).</summary>
    public int Holding
    {
        get
        {
            lock (_gate)
            {
                return _lanes.Values.Count(l => l.Streak.Holding) + _remembered.Values.Count(r => r.Streak.Holding);
            }
        }
    }

    public int InFlight
    {
        get
        {
            lock (_gate)
            {
                return _inFlight;
            }
        }
    }

    /// <summary>Completes when nothing is in flight (queued deliveries are left to their leases).</summary>
    public Task WhenNothingInFlightAsync()
    {
        lock (_gate)
        {
            if (_inFlight == 0)
            {
                return Task.CompletedTask;
            }

            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _idle.Task;
        }
    }

    /// <summary>Starts nothing more: queued deliveries stay queued and are left to their leases (shutdown).</summary>
    public void Stop()
    {
        lock (_gate)
        {
            _stopped = true;
        }
    }

    /// <summary>Webhooks whose lane already has its depth waiting: leasing more for them only ages leases.</summary>
    public IReadOnlyCollection<string> Saturated()
    {
        lock (_gate)
        {
            return [.. _lanes.Values.Where(l => l.Waiting.Count >= Depth(l)).Select(l => l.WebhookId)];
        }
    }

    /// <summary>
    /// The share of an ordinary lease round or grant: a cap's worth per webhook, leaving out saturated lanes and
    /// deep ones (those are fed by <see cref="DeepShare"/>, in rounds worth a database round trip). Says whether every
    /// webhook it leaves out is a deep lane (<see cref="OrdinaryRoundPacing"/>).
    /// </summary>
    public LaneShare NormalShare()
    {
        lock (_gate)
        {
            var excluded = _lanes.Values.Where(l => Depth(l) > maxPerWebhook || l.Waiting.Count >= Depth(l)).ToList();
            return new LaneShare(maxPerWebhook, [.. excluded.Select(l => l.WebhookId)])
            {
                LeavesOutOnlyDeepLanes = excluded.Count > 0 && excluded.All(l => Depth(l) > maxPerWebhook),
            };
        }
    }

    /// <summary>
    /// A round for deep lanes down to half their depth, and for deep lanes that ran dry while their last lease round
    /// found more due than it took (<see cref="Remembered.Drained"/>): up to the largest room among them per webhook,
    /// every other known lane left out. Null when no deep lane is that hungry. (Without the drained ones, a fast webhook
    /// whose lane emptied before its refill landed was leased a cap's worth at a time, as a webhook this worker knows
    /// nothing of, until a lane lasted long enough to be seen hungry: three rounds of 16 in a row, often, in a drain.)
    /// </summary>
    public LaneShare? DeepShare()
    {
        lock (_gate)
        {
            var hungry = _lanes.Values.Where(l => Depth(l) > maxPerWebhook && l.Waiting.Count <= Depth(l) / 2).ToList();
            var drained = _remembered.Values.Where(r => r.Drained).Select(DepthAt).Where(depth => depth > maxPerWebhook).DefaultIfEmpty(0).Max();
            if (hungry.Count == 0 && drained == 0)
            {
                return null;
            }

            var share = Math.Max(drained, hungry.Select(l => Depth(l) - l.Waiting.Count).DefaultIfEmpty(0).Max());
            return new LaneShare(share, [.. _lanes.Values.Except(hungry).Select(l => l.WebhookId)]);
        }
    }

    /// <summary>
    /// The share of an ingestion grant. Every lane may take what its depth has room for (a cap's worth at least), and
    /// a fast webhook whose lane ran dry and went away its depth: its pace is remembered, and nothing waits for it.
    /// Webhooks this worker knows nothing of take a cap's worth, as their first deliveries are not known to be fast.
    /// A lane with no room is left out, and then owes: that ingestion's deliveries for it are written for lease
    /// rounds, so it takes no grant until a lease round finds nothing more due for it (<see cref="Settle"/>) and
    /// newer deliveries never overtake those for long. (A grant given only down to half the depth, as lease rounds are,
    /// sent a fifth of a busy webhook's deliveries through lease rounds on PostgreSQL; docs/benchmarks.md.)
    /// </summary>
    public LaneShare ForIngestion()
    {
        lock (_gate)
        {
            var excluded = new HashSet<string>(StringComparer.Ordinal);
            Dictionary<string, int>? deeper = null;
            foreach (var lane in _lanes.Values)
            {
                var depth = Depth(lane);
                var room = depth - lane.Waiting.Count;
                if (lane.Owes || room <= 0)
                {
                    lane.Owes = true;
                    excluded.Add(lane.WebhookId);
                }
                else if (depth > maxPerWebhook)
                {
                    (deeper ??= new(StringComparer.Ordinal))[lane.WebhookId] = room;
                }
            }

            foreach (var (webhookId, remembered) in _remembered)
            {
                if (DepthAt(remembered) is var depth && depth > maxPerWebhook)
                {
                    (deeper ??= new(StringComparer.Ordinal))[webhookId] = depth;
                }
            }

            return new LaneShare(maxPerWebhook, excluded, deeper);
        }
    }

    /// <summary>
    /// After a lease round with <paramref name="share"/>: a lane that owed and was served by it owes no more when the
    /// round found less than its share for it and did not stop at the room it had (nothing more is due for it).
    /// </summary>
    public void Settle(LaneShare share, IReadOnlyList<LeasedDelivery> leased, bool full)
    {
        // Counted once: a round brings up to LeaseBatchSize deliveries, and lanes that owe can be many (every saturated one).
        var perWebhook = leased.CountBy(d => d.WebhookId, StringComparer.Ordinal).ToDictionary(StringComparer.Ordinal);
        lock (_gate)
        {
            // Whether the store had more due for a lane than this round took: a round that stopped at its room says nothing.
            foreach (var (webhookId, count) in perWebhook)
            {
                if (_lanes.TryGetValue(webhookId, out var served))
                {
                    served.MoreDue = full || count >= share.PerWebhook;
                }
            }

            if (full)
            {
                return;
            }

            // A lane that ran dry while more was due, and that this round served without taking anything: nothing is due now.
            foreach (var (webhookId, remembered) in _remembered.Where(r => r.Value.Drained && !share.Excluded.Contains(r.Key)).ToList())
            {
                _remembered[webhookId] = remembered with { Drained = false };
            }

            foreach (var lane in _lanes.Values)
            {
                if (lane.MoreDue && !share.Excluded.Contains(lane.WebhookId) && !perWebhook.ContainsKey(lane.WebhookId))
                {
                    lane.MoreDue = false;
                }

                if (lane.Owes && !share.Excluded.Contains(lane.WebhookId) && perWebhook.GetValueOrDefault(lane.WebhookId) < share.PerWebhook)
                {
                    lane.Owes = false;
                }
            }
        }
    }

    /// <summary>
    /// Forgets the webhook's failures, here and in what its lane left behind: its merchant changed its URL, enabled it
    /// again, replayed to it or sent it a test, and expects an attempt now, not after a hold. With <paramref name="url"/>
    /// (a new URL), what waits in the lane goes there: it was leased with the old one, which its merchant just replaced.
    /// </summary>
    public void ClearFailures(string webhookId, string? url = null)
    {
        List<LeasedDelivery> toStart = [];
        lock (_gate)
        {
            if (url is not null && _lanes.TryGetValue(webhookId, out var moved))
            {
                for (var i = moved.Waiting.Count; i > 0; i--)
                {
                    moved.Waiting.Enqueue(moved.Waiting.Dequeue() with { Url = url });
                }
            }

            if (_remembered.TryGetValue(webhookId, out var remembered) && remembered.Streak.Failures > 0)
            {
                _remembered[webhookId] = remembered with { Streak = default };
            }

            if (_lanes.TryGetValue(webhookId, out var lane) && lane.Streak.Failures > 0)
            {
                lane.Streak = default;
                MarkReady(lane);
                toStart = Pump();
            }
        }

        Start(toStart);
    }

    /// <summary>How many deliveries the webhook's lane may hold waiting (the per-webhook cap when it has no lane).</summary>
    public int DepthOf(string webhookId)
    {
        lock (_gate)
        {
            return _lanes.TryGetValue(webhookId, out var lane) ? Depth(lane)
                : DepthAt(_remembered.GetValueOrDefault(webhookId));
        }
    }

    public void Enqueue(IEnumerable<LeasedDelivery> deliveries)
    {
        List<LeasedDelivery> toStart;
        lock (_gate)
        {
            foreach (var delivery in deliveries)
            {
                if (!_lanes.TryGetValue(delivery.WebhookId, out var lane))
                {
                    // The pace and the failures go with the lane while it exists (so _remembered holds only webhooks without one).
                    _remembered.Remove(delivery.WebhookId, out var remembered);
                    lane = new Lane(delivery.WebhookId) { Pace = remembered.Pace, Streak = remembered.Streak, BodySize = remembered.BodySize };
                    _lanes.Add(delivery.WebhookId, lane);
                }

                lane.Waiting.Enqueue(delivery);
                lane.Weigh(delivery.Body.Length);
                _queued++;
                MarkReady(lane);
            }

            toStart = Pump();
        }

        Start(toStart);
    }

    private void Finished(string webhookId, long started, bool? succeeded)
    {
        var now = time.GetTimestamp();
        List<LeasedDelivery> toStart;
        var unsaturated = false;
        var drained = false;
        TimeSpan? hold = null;
        lock (_gate)
        {
            _inFlight--;
            var lane = _lanes[webhookId];
            var wasAboveHalf = lane.Waiting.Count > Depth(lane) / 2;
            lane.InFlight--;
            lane.Record(time.GetElapsedTime(started, now), now, time);
            hold = lane.Count(succeeded, time);
            if (lane.InFlight == 0 && lane.Waiting.Count == 0)
            {
                _lanes.Remove(webhookId);
                drained = Remember(lane);
            }
            else
            {
                MarkReady(lane);
            }

            toStart = Pump();
            unsaturated = wasAboveHalf && lane.Waiting.Count <= Depth(lane) / 2;
            if (_inFlight == 0 && toStart.Count == 0 && _idle is { } idle)
            {
                _idle = null;
                idle.TrySetResult();
            }
        }

        Start(toStart);
        if (hold is { } wait)
        {
            _ = ReleaseAfterAsync(webhookId, wait);
        }

        if (unsaturated || drained)
        {
            LaneUnsaturated?.Invoke();
        }
    }

    /// <summary>When a hold ends, the lane may start its probe (timers may fire a little early: then it waits out the rest).</summary>
    private async Task ReleaseAfterAsync(string webhookId, TimeSpan hold)
    {
        var wait = hold;
        while (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, time);
            List<LeasedDelivery> toStart;
            lock (_gate)
            {
                if (!_lanes.TryGetValue(webhookId, out var lane))
                {
                    return;
                }

                wait = lane.Streak.Holding ? lane.Streak.HeldUntil - time.GetUtcNow() : TimeSpan.Zero;
                if (wait > TimeSpan.Zero)
                {
                    continue;
                }

                MarkReady(lane);
                toStart = Pump();
            }

            Start(toStart);
        }
    }

    /// <summary>
    /// Cap × budget ÷ the lane's average attempt time, or its recent rate × budget when that is more, within [cap,
    /// maxDepth] and within the bytes its bodies may take: the cap until a pace is measured (a frozen test clock
    /// measures none).
    /// </summary>
    private int Depth(Lane lane) => DepthAt(lane.Streak, lane.Pace, lane.BodySize, lane.RateAt(time.GetTimestamp(), time));

    /// <summary>What a lane that went away left behind: its pace, no rate (it finishes nothing while it is gone).</summary>
    private int DepthAt(Remembered lane) => DepthAt(lane.Streak, lane.Pace, lane.BodySize, rate: 0);

    /// <summary>A lane that holds is as shallow as a hanging endpoint's, whatever the pace of its failures.</summary>
    private int DepthAt(FailureStreak streak, double pace, double bodySize, double rate)
    {
        if (streak.Holding || pace <= 0)
        {
            return maxPerWebhook;
        }

        var deepest = bodySize <= 0 ? _maxDepth : (int)Math.Clamp(maxDepthBytes / bodySize, maxPerWebhook, _maxDepth);
        var budget = QueueBudget.TotalSeconds;
        return (int)Math.Clamp(Math.Max(maxPerWebhook * budget / pace, rate * budget), maxPerWebhook, deepest);
    }

    /// <summary>Keeps what a lane that went away leaves behind; true when it ran dry as a deep lane with more due (<see cref="DeepShare"/>).</summary>
    private bool Remember(Lane lane)
    {
        if (lane.Pace <= 0 && lane.Streak.Failures == 0)
        {
            return false;
        }

        if (_remembered.Count >= RememberedLanes)
        {
            _remembered.Clear();
        }

        var remembered = new Remembered(lane.Pace, lane.Streak, lane.MoreDue && Depth(lane) > maxPerWebhook, lane.BodySize);
        _remembered[lane.WebhookId] = remembered;
        return remembered.Drained;
    }

    private void MarkReady(Lane lane)
    {
        if (!lane.IsReady && lane.Waiting.Count > 0 && lane.InFlight < maxPerWebhook && !lane.Blocked(time))
        {
            lane.IsReady = true;
            _ready.Enqueue(lane);
        }
    }

    private List<LeasedDelivery> Pump()
    {
        var toStart = new List<LeasedDelivery>();
        while (!_stopped && _inFlight < maxConcurrency && _ready.TryDequeue(out var lane))
        {
            lane.IsReady = false;
            if (lane.Waiting.Count == 0 || lane.InFlight >= maxPerWebhook || lane.Blocked(time))
            {
                continue;
            }

            toStart.Add(lane.Waiting.Dequeue());
            _queued--;
            lane.InFlight++;
            _inFlight++;
            MarkReady(lane);
        }

        return toStart;
    }

    private void Start(List<LeasedDelivery> deliveries)
    {
        foreach (var delivery in deliveries)
        {
            _ = RunAsync(delivery);
        }
    }

    private async Task RunAsync(LeasedDelivery delivery)
    {
        var started = time.GetTimestamp();
        bool? succeeded = null;
        try
        {
            await Task.Yield();
            succeeded = await run(delivery);
        }
        finally
        {
            Finished(delivery.WebhookId, started, succeeded);
        }
    }

    private sealed class Lane(string webhookId)
    {
        public string WebhookId { get; } = webhookId;

        public Queue<LeasedDelivery> Waiting { get; } = new();

        public int InFlight { get; set; }

        public bool IsReady { get; set; }

        /// <summary>Deliveries for this webhook were written for lease rounds while the lane was full (<see cref="ForIngestion"/>).</summary>
        public bool Owes { get; set; }

        /// <summary>The last lease round that served this webhook took its whole share: the store may have more due for it.</summary>
        public bool MoreDue { get; set; }

        /// <summary>Average seconds per attempt (moving, a fifth per sample); 0 until one is measured.</summary>
        public double Pace { get; set; }

        /// <summary>Its endpoint's failures in a row, and the hold they put it in.</summary>
        public FailureStreak Streak { get; set; }

        /// <summary>Average bytes of a body enqueued (moving, a fifth per delivery); 0 until one is seen.</summary>
        public double BodySize { get; set; }

        /// <summary>When the window counting finished attempts began (the first attempt this lane finished); null before.</summary>
        private long? _windowStart;

        /// <summary>Attempts finished since <see cref="_windowStart"/>.</summary>
        private int _windowFinished;

        /// <summary>Attempts finished per second in the last whole window, and in the one before it; 0 until measured.</summary>
        private double _lastRate;

        private double _rateBefore;

        /// <summary>Holding, and either within the hold or with its probe in flight (the clock read only for a lane that holds).</summary>
        public bool Blocked(TimeProvider time) => Streak.Holding && (InFlight > 0 || time.GetUtcNow() < Streak.HeldUntil);

        /// <summary>Counts an attempt's outcome (null: nothing was sent); the hold to wait out when this failure starts one.</summary>
        public TimeSpan? Count(bool? succeeded, TimeProvider time)
        {
            var (next, hold) = Streak.After(succeeded, time);
            Streak = next;
            return hold;
        }

        public void Weigh(int bytes) => BodySize = BodySize <= 0 ? bytes : (0.8 * BodySize) + (0.2 * bytes);

        /// <summary>An attempt finished at <paramref name="now"/> after <paramref name="elapsed"/>: its pace, and its rate.</summary>
        public void Record(TimeSpan elapsed, long now, TimeProvider time)
        {
            var seconds = elapsed.TotalSeconds;
            if (seconds > 0)
            {
                Pace = Pace <= 0 ? seconds : (0.8 * Pace) + (0.2 * seconds);
            }

            if (_windowStart is not { } start)
            {
                _windowStart = now;
                return;
            }

            _windowFinished++;
            var window = time.GetElapsedTime(start, now);
            if (window >= DeliveryLanes.RateWindow)
            {
                _rateBefore = _lastRate;
                _lastRate = _windowFinished / window.TotalSeconds;
                _windowStart = now;
                _windowFinished = 0;
            }
        }

        /// <summary>
        /// Attempts finished per second: the higher of the last two whole windows', so that one stall shorter than a
        /// window does not lower it; 0 once the current window has run two windows' length, nothing finished for the last one
        /// at least (it may hang: its pace decides).
        /// </summary>
        public double RateAt(long now, TimeProvider time)
            => _windowStart is { } start && time.GetElapsedTime(start, now) < 2 * DeliveryLanes.RateWindow ? Math.Max(_lastRate, _rateBefore) : 0;
    }
}

/// <summary>
/// What a lane that went away leaves behind: its pace, its failures and its bodies' average size, for when its webhook has
/// work again, and whether it ran dry as a deep lane while the store had more due for it (<see cref="DeliveryLanes.DeepShare"/>
/// feeds it then).
/// </summary>
internal readonly record struct Remembered(double Pace, FailureStreak Streak, bool Drained = false, double BodySize = 0);

/// <summary>
/// An endpoint's attempts failed in a row (any failure: refused, timed out, a non-2xx answer, ...), and the hold they
/// put its lane in: none until <see cref="DeliveryLanes.HoldAfter"/>; the default is a healthy endpoint.
/// </summary>
internal readonly record struct FailureStreak(int Failures, TimeSpan Hold, DateTimeOffset HeldUntil)
{
    /// <summary>The last <see cref="DeliveryLanes.HoldAfter"/> attempts failed: a probe at a time, after each hold.</summary>
    public bool Holding => Failures >= DeliveryLanes.HoldAfter;

    /// <summary>
    /// The streak after an attempt's outcome (null: nothing was sent), and the hold to wait out when this failure starts
    /// one: the failure that reaches <see cref="DeliveryLanes.HoldAfter"/>, or a failure after the hold ended (a failed
    /// probe, which doubles it). Failures that come back within a hold (attempts already out when it began) do not
    /// lengthen it. The clock is read for failures only.
    /// </summary>
    public (FailureStreak Next, TimeSpan? Hold) After(bool? succeeded, TimeProvider time)
    {
        switch (succeeded)
        {
            case true:
                return (default, null);
            case false:
                var now = time.GetUtcNow();
                var failed = this with { Failures = Math.Min(Failures + 1, DeliveryLanes.HoldAfter) };
                if (!failed.Holding || now < HeldUntil)
                {
                    return (failed, null);
                }

                var hold = Hold == TimeSpan.Zero ? DeliveryLanes.FirstHold : TimeSpan.FromTicks(Math.Min(Hold.Ticks * 2, DeliveryLanes.LongestHold.Ticks));
                return (failed with { Hold = hold, HeldUntil = now + hold }, hold);
            default:
                return (this, null);
        }
    }
}

/// <summary>What one lease round or ingestion grant may take: per webhook, and which webhooks not at all.</summary>
internal sealed record LaneShare(int PerWebhook, IReadOnlyCollection<string> Excluded, IReadOnlyDictionary<string, int>? Deeper = null)
{
    /// <summary>Every webhook left out is a deep lane, which deep rounds feed (an ordinary round's share only).</summary>
    public bool LeavesOutOnlyDeepLanes { get; init; }
}
