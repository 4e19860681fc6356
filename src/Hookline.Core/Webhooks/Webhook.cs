namespace Hookline.Core.Webhooks;

internal sealed record Webhook(
    string Id,
    string AccountId,
    string Mode,
    string Product,
    string Url,
    IReadOnlyList<string> Events,
    bool Active,
    string? AlertEmail,
    string? SecretId,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? DisabledAt,
    string? DisabledReason,
    DateTimeOffset? FailingSince)
{
    public bool SecretExists => SecretId is not null;

    public bool Subscribes(string eventName) => Events.Any(e => e == "*" || e == eventName);
}

/// <summary>An encrypted webhook secret. Secrets are never updated in place: rotation adds a row.</summary>
internal sealed record WebhookSecret(string Id, string WebhookId, byte[] Ciphertext, DateTimeOffset CreatedAt);

/// <summary>A partial update; null members are left as they are.</summary>
internal sealed record WebhookChanges(
    string? Url = null,
    IReadOnlyList<string>? Events = null,
    bool? Active = null,
    string? AlertEmail = null,
    bool ClearAlertEmail = false,
    WebhookSecret? NewSecret = null,
    bool RemoveSecret = false);
