namespace Hookline.Core.Notifications;

internal static class NotificationKind
{
    /// <summary>The first failure of a streak.</summary>
    public const string FailureStreakStarted = "failure_streak_started";

    /// <summary>The streak passed half of <c>Delivery:DisableAfter</c>.</summary>
    public const string FailureStreakHalfway = "failure_streak_halfway";

    public const string WebhookDisabled = "webhook_disabled";

    public const string WebhookReenabled = "webhook_reenabled";
}

internal static class NotificationStatus
{
    /// <summary>Written, waiting for (another) send attempt — or for SMTP to be configured.</summary>
    public const string Unsent = "unsent";
    public const string Sent = "sent";

    /// <summary>Refused permanently by the SMTP server, or retries exhausted.</summary>
    public const string Failed = "failed";
}

/// <summary>
/// What the e-mail says, captured in the transaction that caused it, so the message describes the moment of
/// the state change even if it is sent hours later. Never holds a secret.
/// </summary>
internal sealed record NotificationFacts(
    string Url,
    string Mode,
    DateTimeOffset? FailingSince,
    DateTimeOffset? DisableAt,
    DateTimeOffset? DisabledAt,
    int FailingDeliveries,
    int? LastStatusCode,
    string? LastError,
    string? LastExcerpt);

internal sealed record Notification(
    string Id,
    string AccountId,
    string Mode,
    string WebhookId,
    string Kind,
    string Recipient,
    NotificationFacts Facts,
    string Status,
    int Attempts,
    DateTimeOffset CreatedAt,
    DateTimeOffset? SentAt,
    string? LastReply);

/// <summary>A notification this sender owns until its lease expires; <see cref="LeaseToken"/> fences the result.</summary>
internal sealed record LeasedNotification(Notification Notification, long LeaseToken);

internal sealed record NotificationResult(string Id, long LeaseToken, string Status, string Reply, DateTimeOffset? NextAttemptAt, DateTimeOffset At);
