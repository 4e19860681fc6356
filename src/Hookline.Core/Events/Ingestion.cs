using Hookline.Core.Delivery;

namespace Hookline.Core.Events;

/// <summary>
/// One event ready to be committed: its envelope is already rendered. <see cref="DeliveryDeadline"/> is when
/// its deliveries stop being attempted (created_at + retry window).
/// </summary>
internal sealed record NewEvent(string Id, string AccountId, string Mode, string Name, string Product, byte[] Body, DateTimeOffset CreatedAt, DateTimeOffset DeliveryDeadline);

/// <summary>
/// Events to commit in one transaction with their deliveries. When <see cref="Lease"/> is set the new
/// deliveries are inserted already leased to this process, so they can be handed to its dispatcher in memory
/// without another round trip; if the process dies, the lease simply expires.
/// </summary>
/// <remarks>
/// With <see cref="TestTarget"/> set (a test fire), each event gets exactly one delivery, to that webhook,
/// whatever it subscribes to, with the trigger <c>test</c>.
/// </remarks>
internal sealed record IngestBatch(
    IReadOnlyList<NewEvent> Events,
    string? IdempotencyKey,
    byte[]? RequestHash,
    LeaseGrant? Lease,
    string? TestTarget = null);

/// <summary>
/// Permission to insert up to <see cref="MaxDeliveries"/> new deliveries already leased to <see cref="Owner"/>,
/// at most <see cref="MaxPerWebhook"/> per webhook (or what <see cref="Deeper"/> gives a webhook it names) and none for
/// <see cref="ExcludedWebhooks"/> (whose lanes are full): the rest are inserted unleased and found by polling, so a
/// burst for one slow endpoint cannot fill this worker's memory.
/// </summary>
internal sealed record LeaseGrant(string Owner, DateTimeOffset ExpiresAt, int MaxDeliveries, int MaxPerWebhook, IReadOnlyCollection<string> ExcludedWebhooks)
{
    /// <summary>Webhooks known to be fast that may take more than <see cref="MaxPerWebhook"/>: how many each.</summary>
    public IReadOnlyDictionary<string, int>? Deeper { get; init; }

    /// <summary>How many of this ingestion's deliveries the webhook may be granted.</summary>
    public int ShareOf(string webhookId)
        => ExcludedWebhooks.Contains(webhookId) ? 0
           : Deeper is not null && Deeper.TryGetValue(webhookId, out var deeper) ? Math.Max(deeper, MaxPerWebhook)
           : MaxPerWebhook;
}

internal sealed record IngestedEvent(string Id, DateTimeOffset CreatedAt, int Deliveries, int Skipped);

internal enum IngestStatus
{
    Created,
    Replayed,
    IdempotencyConflict,
    UnknownAccount,

    /// <summary>The test-fire target does not exist in the event's account, mode and product.</summary>
    UnknownWebhook,
}

internal sealed record IngestResult(
    IngestStatus Status,
    IReadOnlyList<IngestedEvent> Events,
    IReadOnlyList<LeasedDelivery> Leased,
    string? UnknownAccountId = null)
{
    /// <summary>
    /// Deliveries this ingestion queued in the store without leasing them to its worker (no room, or a webhook's
    /// share full): only a lease round finds them. None for a replayed answer, which queued nothing.
    /// </summary>
    public int LeftForLeaseRounds
        => Status == IngestStatus.Created ? Events.Sum(e => e.Deliveries - e.Skipped) - Leased.Count : 0;
}

internal sealed record StoredEvent(string Id, string AccountId, string Mode, string Name, byte[] Body, DateTimeOffset CreatedAt);
