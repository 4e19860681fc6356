using Hookline.Core.Webhooks;
using Hookline.Server.Api;

namespace Hookline.Server.Webhooks;

/// <summary>The webhook entity as the API shows it. The secret itself is shown only once, at creation.</summary>
internal sealed record WebhookView(
    string Id,
    string Entity,
    string Url,
    IReadOnlyList<string> Events,
    bool Active,
    string Product,
    string? AlertEmail,
    bool SecretExists,
    long CreatedAt,
    long UpdatedAt,
    long? DisabledAt,
    string? DisabledReason,
    long? FailingSince)
{
    public static WebhookView From(Webhook w) => new(
        w.Id, "webhook", w.Url, w.Events, w.Active, w.Product, w.AlertEmail, w.SecretExists,
        ApiJson.Seconds(w.CreatedAt), ApiJson.Seconds(w.UpdatedAt), ApiJson.Seconds(w.DisabledAt), w.DisabledReason,
        ApiJson.Seconds(w.FailingSince));
}

internal sealed record CreatedWebhookView(WebhookView Webhook, string Secret);
