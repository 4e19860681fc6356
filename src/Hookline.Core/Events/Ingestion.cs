using Hookline.Core.Delivery;

namespace Hookline.Core.Events;

/// <summary>One event ready to be committed: its envelope is already rendered.</summary>
internal sealed record NewEvent(string Id, string AccountId, string Mode, string Name, string Product, byte[] Body, DateTimeOffset CreatedAt);

/// <summary>
/// Events to commit in one transaction with their deliveries. When <see cref="Lease"/> is set the new
/// deliveries are inserted already leased to this process, so they can be handed to its dispatcher in memory
/// without another round trip; if the process dies, the lease simply expires.
/// </summary>
internal sealed record IngestBatch(
    IReadOnlyList<NewEvent> Events,
    string? IdempotencyKey,
    byte[]? RequestHash,
    LeaseGrant? Lease);

internal sealed record LeaseGrant(string Owner, DateTimeOffset ExpiresAt);

internal sealed record IngestedEvent(string Id, DateTimeOffset CreatedAt, int Deliveries, int Skipped);

internal enum IngestStatus
{
    Created,
    Replayed,
    IdempotencyConflict,
    UnknownAccount,
}

internal sealed record IngestResult(
    IngestStatus Status,
    IReadOnlyList<IngestedEvent> Events,
    IReadOnlyList<LeasedDelivery> Leased,
    string? UnknownAccountId = null);

internal sealed record StoredEvent(string Id, string AccountId, string Mode, string Name, byte[] Body, DateTimeOffset CreatedAt);
