namespace Hookline.Core.Delivery;

/// <summary>
/// A delivery this worker owns until <see cref="LeaseExpiresAt"/>. <see cref="LeaseToken"/> is the fence:
/// a completion is applied only if the row still carries this token, so a worker that stalled past its
/// lease (and lost it to another) cannot overwrite the newer owner's result.
/// </summary>
internal sealed record LeasedDelivery(
    string Id,
    string EventId,
    string WebhookId,
    string AccountId,
    string Url,
    byte[] Body,
    DateTimeOffset EventCreatedAt,
    DateTimeOffset Deadline,
    byte[]? SecretCiphertext,
    int AttemptsMade,
    string Trigger,
    long LeaseToken,
    DateTimeOffset LeaseExpiresAt,
    DeferredRow? Deferred = null);

/// <summary>
/// What a store needs to write the row of a delivery it has not written yet. A store may keep the deliveries it grants
/// at ingestion as one compact record per ingestion group instead of a row each (PostgreSQL does:
/// docs/postgres.md, Deferred rows); the delivery's row is then written once, in its state after the first attempt,
/// unless something else needed it first. <see cref="Group"/> names the record.
/// </summary>
internal sealed record DeferredRow(string Group, string EventId, string AccountId, string Mode, string? SecretId, DateTimeOffset CreatedAt, DateTimeOffset Deadline);

internal sealed record LeaseRequest(
    string Owner,
    DateTimeOffset Now,
    TimeSpan LeaseDuration,
    int MaxDeliveries,
    int MaxPerWebhook,
    IReadOnlyCollection<string> ExcludedWebhooks);

/// <summary>The recorded result of one attempt and what follows from it.</summary>
internal sealed record Completion(
    string DeliveryId,
    string WebhookId,
    long LeaseToken,
    int AttemptNumber,
    string Trigger,
    DateTimeOffset StartedAt,
    AttemptOutcome? Outcome,
    DateTimeOffset? NextAttemptAt,
    DeferredRow? Deferred = null)
{
    /// <summary>Status the delivery takes: pending again while a retry is scheduled.</summary>
    public string NewStatus => Outcome switch
    {
        { Succeeded: true } => DeliveryStatus.Succeeded,
        _ when NextAttemptAt is not null => DeliveryStatus.Pending,
        _ => DeliveryStatus.Failed,
    };
}

internal sealed record CompletionBatch(IReadOnlyList<Completion> Completions, DateTimeOffset Now, TimeSpan DisableAfter);

internal sealed record CompletionReport(int Applied, int Discarded, IReadOnlyList<string> DisabledWebhooks);
