using Hookline.Core;
using Hookline.Core.Delivery;
using Hookline.Core.Destinations;
using Hookline.Core.Events;
using Hookline.Core.Notifications;
using Hookline.Core.Secrets;
using Hookline.Core.Storage;
using Hookline.Core.Webhooks;
using Hookline.Server.Accounts;
using Hookline.Server.Api;
using Hookline.Server.Auth;
using Hookline.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Hookline.Server.Webhooks;

internal static class WebhooksApi
{
    private static readonly string[] Fields = ["url", "events", "secret", "alert_email", "product", "active"];

    public static RouteGroupBuilder MapWebhooksApi(this RouteGroupBuilder merchant)
    {
        merchant.MapPost("/webhooks", CreateAsync);
        merchant.MapGet("/webhooks", ListAsync);
        merchant.MapGet("/webhooks/{id}", GetAsync);
        merchant.MapPatch("/webhooks/{id}", UpdateAsync);
        merchant.MapDelete("/webhooks/{id}", DeleteAsync);
        return merchant;
    }

    private static async Task<IResult> CreateAsync(
        Merchant merchant, HttpRequest request, IWebhookStore store, UrlPolicy urls, SecretProtector protector,
        IOptions<LimitsOptions> limits, WebhookLimitGate limitGate, TimeProvider time, CancellationToken cancellationToken)
    {
        var body = RequestObject.Parse(await BodyReader.ReadAsync(request, 64 * 1024, cancellationToken), Fields);
        var product = body.String("product") ?? Products.Payments;
        if (!Products.IsValid(product))
        {
            throw ApiException.BadRequest("The product must be payments or payouts.", "product");
        }

        var url = await CheckUrlAsync(urls, body.String("url", required: true, maxLength: 2048)!, cancellationToken);
        var events = CheckEvents(body.StringArray("events", required: true)!, product);
        var alertEmail = CheckEmail(body.String("alert_email", maxLength: 254));
        var active = body.Bool("active") ?? true;

        var now = time.GetUtcNow();
        var id = Ids.New(Ids.Webhook);
        var (secret, generated) = SecretFrom(body);
        var stored = secret is null ? null : new WebhookSecret(Ids.New(Ids.Secret), id, protector.Protect(secret, merchant.AccountId, id), now);
        var webhook = new Webhook(id, merchant.AccountId, merchant.Mode, product, url, events, active, alertEmail, stored?.Id, now, now,
            active ? null : now, active ? null : "disabled by merchant", null);

        var limit = product == Products.Payouts ? limits.Value.PayoutsWebhooks : limits.Value.PaymentsWebhooks;
        await limitGate.RunAsync(async () =>
        {
            var existing = await store.ListWebhooksAsync(merchant.AccountId, merchant.Mode, cancellationToken);
            if (existing.Count(w => w.Product == product) >= limit)
            {
                throw ApiException.BadRequest($"You can add at most {limit} {product} webhook{(limit == 1 ? "" : "s")} per mode.");
            }

            await store.CreateWebhookAsync(webhook, stored, cancellationToken, Audit.Of(merchant, "created", body, secret is null ? null : generated ? "generated" : "set"));
        }, cancellationToken);

        var view = WebhookView.From(webhook);
        return generated
            ? Results.Json(new Dictionary<string, object?>(ToDictionary(view)) { ["secret"] = secret }, ApiJson.Options, statusCode: 201)
            : Results.Json(view, ApiJson.Options, statusCode: 201);
    }

    private static async Task<IResult> ListAsync(Merchant merchant, IWebhookStore store, CancellationToken cancellationToken)
    {
        var webhooks = await store.ListWebhooksAsync(merchant.AccountId, merchant.Mode, cancellationToken);
        return Results.Json(new Collection<WebhookView>([.. webhooks.Select(WebhookView.From)]), ApiJson.Options);
    }

    private static async Task<IResult> GetAsync(string id, Merchant merchant, IWebhookStore store, CancellationToken cancellationToken)
        => Results.Json(WebhookView.From(await store.GetWebhookAsync(merchant.AccountId, merchant.Mode, id, cancellationToken) ?? throw ApiException.NotFound()), ApiJson.Options);

    private static async Task<IResult> UpdateAsync(
        string id, Merchant merchant, HttpRequest request, IWebhookStore store, UrlPolicy urls, SecretProtector protector,
        NotificationSender notifications, Dispatcher dispatcher, TimeProvider time, CancellationToken cancellationToken)
    {
        var body = RequestObject.Parse(await BodyReader.ReadAsync(request, 64 * 1024, cancellationToken), Fields);
        var current = await store.GetWebhookAsync(merchant.AccountId, merchant.Mode, id, cancellationToken) ?? throw ApiException.NotFound();
        if (body.String("product") is { } product && product != current.Product)
        {
            throw ApiException.BadRequest("The product of a webhook cannot be changed; create another webhook.", "product");
        }

        var url = body.String("url", maxLength: 2048) is { } newUrl ? await CheckUrlAsync(urls, newUrl, cancellationToken) : null;
        var events = body.StringArray("events") is { } newEvents ? CheckEvents(newEvents, current.Product) : null;
        var alertEmail = CheckEmail(body.String("alert_email", maxLength: 254));
        var now = time.GetUtcNow();
        var (secret, generated) = SecretFrom(body);
        var stored = secret is null ? null : new WebhookSecret(Ids.New(Ids.Secret), id, protector.Protect(secret, merchant.AccountId, id), now);
        var changes = new WebhookChanges(url, events, body.Bool("active"), alertEmail, body.IsNull("alert_email"), stored, body.IsNull("secret"));

        var secretChange = body.IsNull("secret") ? "removed" : secret is null ? null : generated ? "generated" : "rotated";
        var updated = await store.UpdateWebhookAsync(merchant.AccountId, merchant.Mode, id, changes, now, cancellationToken, Audit.Of(merchant, "updated", body, secretChange))
            ?? throw ApiException.NotFound();
        if (updated.Active && !current.Active)
        {
            // Re-enabling wrote a notice to the outbox.
            notifications.Wake();
        }

        if (url is not null || (updated.Active && !current.Active))
        {
            // A new endpoint, or one its merchant says is back: what this worker learned of its failures no longer holds,
            // and what it holds for the webhook goes to the new URL (leased deliveries carry the URL of their lease).
            dispatcher.ClearFailures(id, url);
        }

        var view = WebhookView.From(updated);
        return generated
            ? Results.Json(new Dictionary<string, object?>(ToDictionary(view)) { ["secret"] = secret }, ApiJson.Options)
            : Results.Json(view, ApiJson.Options);
    }

    private static async Task<IResult> DeleteAsync(string id, Merchant merchant, IWebhookStore store, TimeProvider time, CancellationToken cancellationToken)
        => await store.DeleteWebhookAsync(merchant.AccountId, merchant.Mode, id, time.GetUtcNow(), cancellationToken, Audit.Of(merchant, "deleted", null, null))
            ? Results.Json(new Dictionary<string, object?>(), ApiJson.Options)
            : throw ApiException.NotFound();

    private static async Task<string> CheckUrlAsync(UrlPolicy urls, string url, CancellationToken cancellationToken)
    {
        var verdict = await urls.CheckAsync(url, cancellationToken);
        return verdict.Allowed ? url : throw ApiException.BadRequest(verdict.Description ?? "The url is not allowed.", "url");
    }

    internal static IReadOnlyList<string> CheckEvents(IReadOnlyList<string> events, string product)
    {
        if (events.Count == 0)
        {
            throw ApiException.BadRequest("The events field is required.", "events");
        }

        if (events.Contains("*"))
        {
            return events.Count == 1 ? ["*"] : throw ApiException.BadRequest("\"*\" subscribes to every event and cannot be combined with names.", "events");
        }

        var invalid = events.Where(e => EventCatalog.Default.Find(e)?.Product != product).Distinct().ToList();
        return invalid.Count == 0
            ? [.. events.Distinct()]
            : throw ApiException.BadRequest($"Invalid event name/names: {string.Join(", ", invalid.Select(Printable))}", "events");
    }

    private static string Printable(string name) => name.Length > 64 || name.Any(char.IsControl) ? "(unprintable name)" : name;

    private static string? CheckEmail(string? email)
        => email is null || EmailAddress.IsValid(email) ? email : throw ApiException.BadRequest("The alert_email must be a valid email address.", "alert_email");

    private static (string? Secret, bool Generated) SecretFrom(RequestObject body)
    {
        var secret = body.String("secret", maxLength: 256);
        if (secret == "generate")
        {
            return (SecretProtector.GenerateWebhookSecret(), true);
        }

        if (secret is not null && (secret.Length < 8 || secret.Any(char.IsControl)))
        {
            throw ApiException.BadRequest("The secret must be at least 8 printable characters, or \"generate\".", "secret");
        }

        return (secret, false);
    }

    private static Dictionary<string, object?> ToDictionary(WebhookView view)
        => System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, object?>>(System.Text.Json.JsonSerializer.Serialize(view, ApiJson.Options), ApiJson.Options)!;
}
