using Hookline.Core.Accounts;
using Hookline.Core.Delivery;
using Hookline.Core.Events;
using Hookline.Core.Webhooks;

namespace Hookline.Core.Storage;

/// <summary>
/// The ports every store implements (SQLite embedded, PostgreSQL for scale-out). Each method is one
/// transaction. Times are stored with millisecond precision.
/// </summary>
internal interface IHooklineStore : IAccountStore, IWebhookStore, IEventStore, IDeliveryStore
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
    Task CreateWebhookAsync(Webhook webhook, WebhookSecret? secret, CancellationToken cancellationToken);

    Task<Webhook?> GetWebhookAsync(string accountId, string mode, string webhookId, CancellationToken cancellationToken);

    Task<IReadOnlyList<Webhook>> ListWebhooksAsync(string accountId, string mode, CancellationToken cancellationToken);

    /// <summary>
    /// Applies <paramref name="changes"/>. Re-enabling clears <c>disabled_at</c> and the failure streak;
    /// disabling cancels pending deliveries. Null when the webhook does not exist for that account and mode.
    /// </summary>
    Task<Webhook?> UpdateWebhookAsync(string accountId, string mode, string webhookId, WebhookChanges changes, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Deletes the webhook (its history stays); pending deliveries end cancelled.</summary>
    Task<bool> DeleteWebhookAsync(string accountId, string mode, string webhookId, DateTimeOffset at, CancellationToken cancellationToken);
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

    Task<DeliveryDetail?> GetDeliveryAsync(string accountId, string mode, string deliveryId, CancellationToken cancellationToken);

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

internal sealed record DeliveryDetail(DeliverySummary Delivery, string AccountId, string Mode, IReadOnlyList<AttemptRecord> Attempts);
