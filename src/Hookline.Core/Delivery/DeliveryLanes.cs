namespace Hookline.Core.Delivery;

/// <summary>
/// The in-memory run queue of one worker: a lane per webhook with its own cap, lanes served round-robin
/// under a global cap. A slow endpoint fills its own lane and waits there; it cannot take the slots other
/// webhooks need.
/// </summary>
/// <remarks>
/// How much a lane may hold waiting (its depth) follows how fast its endpoint answers: as many deliveries as
/// it takes about <see cref="QueueBudget"/> to send at the measured pace, between the per-webhook cap and
/// <c>maxDepth</c>. A hanging endpoint keeps the shallow lane it always had (a cap's worth waiting, so leases
/// never age in memory); a fast one goes deep, so one lease round or one ingestion grant feeds it for a whole
/// round trip instead of a cap's worth of requests, which on a single hot webhook is the difference between a
/// database round trip per 16 deliveries and one per few hundred.
/// </remarks>
internal sealed class DeliveryLanes(int maxConcurrency, int maxPerWebhook, int maxDepth, TimeProvider time, Func<LeasedDelivery, Task> run)
{
    /// <summary>Time a lane's deepest waiting delivery should wait at the pace measured; far below any lease.</summary>
    public static readonly TimeSpan QueueBudget = TimeSpan.FromSeconds(1);

    /// <summary>Lanes emptied recently remember their pace (bounded: forgotten all at once past this many).</summary>
    private const int RememberedPaces = 4096;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Lane> _lanes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, double> _paces = new(StringComparer.Ordinal);
    private readonly Queue<Lane> _ready = new();
    private readonly int _maxDepth = Math.Max(maxDepth, maxPerWebhook);
    private int _inFlight;
    private int _queued;
    private bool _stopped;
    private TaskCompletionSource? _idle;

    /// <summary>
    /// Raised (outside the lock) when a lane's waiting work falls to half its depth: its webhook was left out of
    /// lease rounds (or took a deep round) and may have more work due.
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
                return _inFlight + _lanes.Values.Where(l => l.InFlight < maxPerWebhook).Sum(l => l.Waiting.Count);
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
    /// deep ones (those are fed by <see cref="DeepShare"/>, in rounds worth a database round trip).
    /// </summary>
    public LaneShare NormalShare()
    {
        lock (_gate)
        {
            return new LaneShare(maxPerWebhook, [.. _lanes.Values.Where(l => Depth(l) > maxPerWebhook || l.Waiting.Count >= Depth(l)).Select(l => l.WebhookId)]);
        }
    }

    /// <summary>
    /// A round for deep lanes down to half their depth: up to the largest room among them per webhook, every other
    /// known lane left out. Null when no deep lane is that hungry.
    /// </summary>
    public LaneShare? DeepShare()
    {
        lock (_gate)
        {
            var hungry = _lanes.Values.Where(l => Depth(l) > maxPerWebhook && l.Waiting.Count <= Depth(l) / 2).ToList();
            if (hungry.Count == 0)
            {
                return null;
            }

            var share = hungry.Max(l => Depth(l) - l.Waiting.Count);
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

            foreach (var (webhookId, pace) in _paces)
            {
                if (DepthAt(pace) is var depth && depth > maxPerWebhook)
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
        if (full)
        {
            return;
        }

        // Counted once: a round brings up to LeaseBatchSize deliveries, and lanes that owe can be many (every saturated one).
        var perWebhook = leased.CountBy(d => d.WebhookId, StringComparer.Ordinal).ToDictionary(StringComparer.Ordinal);
        lock (_gate)
        {
            foreach (var lane in _lanes.Values)
            {
                if (lane.Owes && !share.Excluded.Contains(lane.WebhookId) && perWebhook.GetValueOrDefault(lane.WebhookId) < share.PerWebhook)
                {
                    lane.Owes = false;
                }
            }
        }
    }

    /// <summary>How many deliveries the webhook's lane may hold waiting (the per-webhook cap when it has no lane).</summary>
    public int DepthOf(string webhookId)
    {
        lock (_gate)
        {
            return _lanes.TryGetValue(webhookId, out var lane) ? Depth(lane) : DepthAt(_paces.GetValueOrDefault(webhookId));
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
                    // The pace goes with the lane while it exists (so _paces holds only webhooks without one).
                    _paces.Remove(delivery.WebhookId, out var pace);
                    lane = new Lane(delivery.WebhookId) { Pace = pace };
                    _lanes.Add(delivery.WebhookId, lane);
                }

                lane.Waiting.Enqueue(delivery);
                _queued++;
                MarkReady(lane);
            }

            toStart = Pump();
        }

        Start(toStart);
    }

    private void Finished(string webhookId, TimeSpan elapsed)
    {
        List<LeasedDelivery> toStart;
        var unsaturated = false;
        lock (_gate)
        {
            _inFlight--;
            var lane = _lanes[webhookId];
            var wasAboveHalf = lane.Waiting.Count > Depth(lane) / 2;
            lane.InFlight--;
            lane.Record(elapsed);
            if (lane.InFlight == 0 && lane.Waiting.Count == 0)
            {
                _lanes.Remove(webhookId);
                Remember(lane);
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
        if (unsaturated)
        {
            LaneUnsaturated?.Invoke();
        }
    }

    /// <summary>
    /// Cap × budget ÷ the lane's average attempt time, within [cap, maxDepth]: the cap until a pace is measured
    /// (a frozen test clock measures none).
    /// </summary>
    private int Depth(Lane lane) => DepthAt(lane.Pace);

    private int DepthAt(double pace)
        => pace <= 0 ? maxPerWebhook : (int)Math.Clamp(maxPerWebhook * QueueBudget.TotalSeconds / pace, maxPerWebhook, _maxDepth);

    private void Remember(Lane lane)
    {
        if (lane.Pace <= 0)
        {
            return;
        }

        if (_paces.Count >= RememberedPaces)
        {
            _paces.Clear();
        }

        _paces[lane.WebhookId] = lane.Pace;
    }

    private void MarkReady(Lane lane)
    {
        if (!lane.IsReady && lane.Waiting.Count > 0 && lane.InFlight < maxPerWebhook)
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
            if (lane.Waiting.Count == 0 || lane.InFlight >= maxPerWebhook)
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
        try
        {
            await Task.Yield();
            await run(delivery);
        }
        finally
        {
            Finished(delivery.WebhookId, time.GetElapsedTime(started));
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

        /// <summary>Average seconds per attempt (moving, a fifth per sample); 0 until one is measured.</summary>
        public double Pace { get; set; }

        public void Record(TimeSpan elapsed)
        {
            var seconds = elapsed.TotalSeconds;
            if (seconds > 0)
            {
                Pace = Pace <= 0 ? seconds : (0.8 * Pace) + (0.2 * seconds);
            }
        }
    }
}

/// <summary>What one lease round or ingestion grant may take: per webhook, and which webhooks not at all.</summary>
internal sealed record LaneShare(int PerWebhook, IReadOnlyCollection<string> Excluded, IReadOnlyDictionary<string, int>? Deeper = null);
