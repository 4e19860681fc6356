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
    DateTimeOffset LeaseExpiresAt);

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
    DateTimeOffset? NextAttemptAt)
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
