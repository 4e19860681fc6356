namespace Hookline.Core.Notifications;

/// <summary>
/// The notification outbox. Rows are written by the stores themselves, inside the transactions that change a
/// webhook's failure streak or active flag (see IDeliveryStore.CompleteAsync, IWebhookStore.UpdateWebhookAsync),
/// at most one per kind per webhook per streak.
/// </summary>
internal interface INotificationStore
{
    /// <summary>Unsent notifications whose next attempt is due, leased to <paramref name="owner"/>.</summary>
    Task<IReadOnlyList<LeasedNotification>> LeaseNotificationsAsync(string owner, DateTimeOffset now, TimeSpan leaseDuration, int max, CancellationToken cancellationToken);

    /// <summary>Records a send attempt; ignored if the lease token no longer matches. False when ignored.</summary>
    Task<bool> CompleteNotificationAsync(NotificationResult result, CancellationToken cancellationToken);

    /// <summary>Newest first; <paramref name="accountId"/> null lists every account (the platform's view).</summary>
    Task<IReadOnlyList<Notification>> ListNotificationsAsync(string? accountId, string? mode, int count, int skip, CancellationToken cancellationToken);
}
