using Hookline.Core.Accounts;
using Hookline.Core.Delivery;
using Hookline.Core.Events;
using Hookline.Core.Webhooks;

namespace Hookline.Core.Storage;

/// <summary>
/// The ports every store implements (SQLite embedded, PostgreSQL for scale-out). Each method is one
/// transaction. Times are stored with millisecond precision.
/// </summary>
internal interface IHooklineStore : IAccountStore, IWebhookStore, IEventStore, IDeliveryStore, IAsyncDisposable
{
    Task MigrateAsync(CancellationToken cancellationToken);

    Task<bool> PingAsync(CancellationToken cancellationToken);
}

internal interface IAccountStore
{
    Task CreateAccountAsync(Account account, IReadOnlyList<ApiKey> keys, CancellationToken cancellationToken);

    Task<Account?> GetAccountAsync(string accountId, CancellationToken cancellationToken);

    Task<ApiKey?> FindKeyAsync(string keyId, CancellationToken cancellationToken);

    Task<IReadOnlyList<ApiKey>> ListKeysAsync(string accountId, CancellationToken cancellationToken);

    Task AddKeyAsync(ApiKey key, CancellationToken cancellationToken);

    Task<bool> RevokeKeyAsync(string accountId, string keyId, DateTimeOffset at, CancellationToken cancellationToken);
}

internal interface IWebhookStore
{
    /// <summary>Creates the webhook; <paramref name="audit"/> is appended to its audit log in the same transaction.</summary>
    Task CreateWebhookAsync(Webhook webhook, WebhookSecret? secret, CancellationToken cancellationToken, AuditEntry? audit = null);

    Task<Webhook?> GetWebhookAsync(string accountId, string mode, string webhookId, CancellationToken cancellationToken);

    Task<IReadOnlyList<Webhook>> ListWebhooksAsync(string accountId, string mode, CancellationToken cancellationToken);

    /// <summary>
    /// Applies <paramref name="changes"/>. Re-enabling clears <c>disabled_at</c> and the failure streak;
    /// disabling cancels pending deliveries. Null when the webhook does not exist for that account and mode.
    /// </summary>
    Task<Webhook?> UpdateWebhookAsync(string accountId, string mode, string webhookId, WebhookChanges changes, DateTimeOffset at, CancellationToken cancellationToken, AuditEntry? audit = null);

    /// <summary>Deletes the webhook (its history stays); pending deliveries end cancelled.</summary>
    Task<bool> DeleteWebhookAsync(string accountId, string mode, string webhookId, DateTimeOffset at, CancellationToken cancellationToken, AuditEntry? audit = null);

    /// <summary>The webhook's audit log, oldest first (deleted webhooks keep theirs).</summary>
    Task<IReadOnlyList<AuditRecord>> ListAuditAsync(string accountId, string mode, string webhookId, CancellationToken cancellationToken);
}

internal interface IEventStore
{
    /// <summary>
    /// Commits the events and one delivery per matching webhook (active → pending, disabled → skipped) in
    /// one transaction, honouring the idempotency key. Nothing is visible until it all commits.
    /// </summary>
    Task<IngestResult> IngestAsync(IngestBatch batch, CancellationToken cancellationToken);

    Task<StoredEvent?> GetEventAsync(string accountId, string mode, string eventId, CancellationToken cancellationToken);

    Task<IReadOnlyList<DeliverySummary>> ListEventDeliveriesAsync(string eventId, CancellationToken cancellationToken);

    /// <summary>Newest first, within one account and mode.</summary>
    Task<IReadOnlyList<StoredEvent>> ListEventsAsync(EventQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// Queues the event's existing deliveries again (a delivery exists only for webhooks that were subscribed
    /// when the event happened), optionally to one webhook. Deliveries of disabled or deleted webhooks are not
    /// queued. Each queued delivery gets the trigger <c>replay</c> and <paramref name="deadline"/>.
    /// </summary>
    Task<ReplayResult> ReplayEventAsync(string accountId, string mode, string eventId, string? webhookId, DateTimeOffset now, DateTimeOffset deadline, CancellationToken cancellationToken);

    /// <summary>Bulk replay: queues the webhook's deliveries of events created in the window that match the filters.</summary>
    Task<int> ReplayWebhookAsync(WebhookReplay replay, CancellationToken cancellationToken);
}

internal interface IDeliveryStore
{
    /// <summary>Leases due, unleased (or lease-expired) pending deliveries, oldest due first.</summary>
    Task<IReadOnlyList<LeasedDelivery>> LeaseDueAsync(LeaseRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Records attempts and their consequences in one transaction: delivery status and schedule, the webhook's
    /// failure streak, and auto-disable (which cancels the webhook's other pending deliveries). Completions whose
    /// lease token no longer matches are discarded.
    /// </summary>
    Task<CompletionReport> CompleteAsync(CompletionBatch batch, CancellationToken cancellationToken);

    /// <summary>
    /// Whether <paramref name="exception"/>, thrown by <see cref="CompleteAsync"/>, refuses something the batch holds (a
    /// constraint or a value the schema rejects): the same batch would fail again however long the writer waited,
    /// unlike a store that is unreachable, busy or restarting.
    /// </summary>
    bool RefusesData(Exception exception);

    Task<DeliveryDetail?> GetDeliveryAsync(string accountId, string mode, string deliveryId, CancellationToken cancellationToken);

    /// <summary>Newest first; null when the webhook does not exist for that account and mode (deleted ones included).</summary>
    Task<IReadOnlyList<DeliverySummary>?> ListWebhookDeliveriesAsync(string accountId, string mode, string webhookId, string? status, int count, int skip, CancellationToken cancellationToken);

    /// <summary>Counts by status, for health checks and tests.</summary>
    Task<IReadOnlyDictionary<string, long>> CountDeliveriesAsync(CancellationToken cancellationToken);
}

internal sealed record DeliverySummary(
    string Id,
    string EventId,
    string WebhookId,
    string Status,
    int Attempts,
    DateTimeOffset CreatedAt,
    DateTimeOffset? NextAttemptAt,
    DateTimeOffset? CompletedAt,
    int? LastStatusCode,
    string? LastError);

internal sealed record AttemptRecord(
    int Number,
    string Trigger,
    DateTimeOffset StartedAt,
    int DurationMs,
    int? StatusCode,
    string? Error,
    string? ResponseExcerpt);

internal sealed record EventQuery(string AccountId, string Mode, DateTimeOffset? From, DateTimeOffset? To, string? EventName, int Count, int Skip);

internal enum ReplayStatus
{
    Queued,
    EventNotFound,
    NoSubscribedWebhook,
    WebhookDisabled,
}

internal sealed record ReplayResult(ReplayStatus Status, int Queued);

/// <summary>Bulk replay filters: <see cref="Statuses"/> of the deliveries, event <see cref="EventNames"/> (null = all).</summary>
internal sealed record WebhookReplay(
    string AccountId,
    string Mode,
    string WebhookId,
    DateTimeOffset From,
    DateTimeOffset To,
    IReadOnlyList<string> Statuses,
    IReadOnlyList<string>? EventNames,
    DateTimeOffset Now,
    DateTimeOffset Deadline);

/// <summary>Who changed a webhook and how. <see cref="Changes"/> is JSON and never holds a secret.</summary>
internal sealed record AuditEntry(string Actor, string Action, string Changes);

internal sealed record AuditRecord(long Id, string WebhookId, string Actor, string Action, string Changes, DateTimeOffset At);

internal sealed record DeliveryDetail(DeliverySummary Delivery, string AccountId, string Mode, IReadOnlyList<AttemptRecord> Attempts);
