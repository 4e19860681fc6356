namespace Hookline.Core.Delivery;

/// <summary>
/// The in-memory run queue of one worker: a lane per webhook with its own cap, lanes served round-robin
/// under a global cap. A slow endpoint fills its own lane and waits there; it cannot take the slots other
/// webhooks need.
/// </summary>
internal sealed class DeliveryLanes(int maxConcurrency, int maxPerWebhook, Func<LeasedDelivery, Task> run)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Lane> _lanes = new(StringComparer.Ordinal);
    private readonly Queue<Lane> _ready = new();
    private int _inFlight;
    private int _queued;
    private TaskCompletionSource? _idle;

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

    /// <summary>Webhooks whose lane already has a full cap waiting: leasing more for them only ages leases.</summary>
    public IReadOnlyCollection<string> Saturated()
    {
        lock (_gate)
        {
            return [.. _lanes.Values.Where(l => l.Waiting.Count >= maxPerWebhook).Select(l => l.WebhookId)];
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
                    lane = new Lane(delivery.WebhookId);
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

    /// <summary>
    /// Raised (outside the lock) when a lane that was saturated has room again: its webhook was left out of lease
    /// rounds and may have more work due.
    /// </summary>
    public event Action? LaneUnsaturated;

    private void Finished(string webhookId)
    {
        List<LeasedDelivery> toStart;
        var unsaturated = false;
        lock (_gate)
        {
            _inFlight--;
            var lane = _lanes[webhookId];
            var wasSaturated = lane.Waiting.Count >= maxPerWebhook;
            lane.InFlight--;
            if (lane.InFlight == 0 && lane.Waiting.Count == 0)
            {
                _lanes.Remove(webhookId);
            }
            else
            {
                MarkReady(lane);
            }

            toStart = Pump();
            unsaturated = wasSaturated && lane.Waiting.Count < maxPerWebhook;
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
        while (_inFlight < maxConcurrency && _ready.TryDequeue(out var lane))
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
        try
        {
            await Task.Yield();
            await run(delivery);
        }
        finally
        {
            Finished(delivery.WebhookId);
        }
    }

    private sealed class Lane(string webhookId)
    {
        public string WebhookId { get; } = webhookId;

        public Queue<LeasedDelivery> Waiting { get; } = new();

        public int InFlight { get; set; }

        public bool IsReady { get; set; }
    }
}
