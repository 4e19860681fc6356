using Hookline.Core;
using Hookline.Core.Delivery;
using Hookline.Core.Events;
using Hookline.Core.Storage;
using Hookline.Server.Api;
using Hookline.Server.Auth;
using Hookline.Server.Deliveries;
using Hookline.Server.Events;
using Hookline.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Hookline.Server.Webhooks;

/// <summary>What happened on a webhook: its deliveries, bulk replay, test fires, its audit log and our egress addresses.</summary>
internal static class WebhookActivityApi
{
    private static readonly string[] AllStatuses = [DeliveryStatus.Failed, DeliveryStatus.Skipped, DeliveryStatus.Succeeded, DeliveryStatus.Cancelled];

    public static RouteGroupBuilder MapWebhookActivityApi(this RouteGroupBuilder merchant)
    {
        merchant.MapGet("/webhooks/ips", Ips);
        merchant.MapGet("/webhooks/{id}/deliveries", ListDeliveriesAsync);
        merchant.MapPost("/webhooks/{id}/replay", ReplayAsync);
        merchant.MapPost("/webhooks/{id}/test", TestAsync);
        merchant.MapGet("/webhooks/{id}/audit", AuditAsync);
        return merchant;
    }

    private static IResult Ips(Merchant merchant, IOptions<DeliveryOptions> options)
        => Results.Json(new Collection<string>(options.Value.SourceAddresses), ApiJson.Options);

    private static async Task<IResult> ListDeliveriesAsync(string id, Merchant merchant, HttpRequest request, IDeliveryStore store, CancellationToken cancellationToken)
    {
        var status = Paging.Single(request, "status");
        if (status is not null && !DeliveryStatus.IsValid(status))
        {
            throw ApiException.BadRequest("The status must be one of pending, succeeded, failed, skipped, cancelled.", "status");
        }

        var (count, skip) = Paging.Read(request);
        var deliveries = await store.ListWebhookDeliveriesAsync(merchant.AccountId, merchant.Mode, id, status, count, skip, cancellationToken) ?? throw ApiException.NotFound();
        return Results.Json(new Collection<DeliveryView>([.. deliveries.Select(DeliveryView.From)]), ApiJson.Options);
    }

    private static async Task<IResult> ReplayAsync(
        string id, Merchant merchant, HttpRequest request, IHooklineStore store, Dispatcher dispatcher, RetrySchedule schedule,
        IOptions<ReplayOptions> replay, TimeProvider time, CancellationToken cancellationToken)
    {
        var body = RequestObject.Parse(await BodyReader.ReadAsync(request, 64 * 1024, cancellationToken), "from", "to", "status", "events");
        var from = Seconds(body, "from");
        var to = Seconds(body, "to");
        if (from > to)
        {
            throw ApiException.BadRequest("The from must not be after to.", "from");
        }

        var statuses = (body.String("status") ?? "failed") switch
        {
            "failed" => [DeliveryStatus.Failed],
            "skipped" => [DeliveryStatus.Skipped],
            "all" => AllStatuses,
            _ => throw ApiException.BadRequest("The status must be failed, skipped or all.", "status"),
        };
        var names = body.StringArray("events");
        var webhook = await store.GetWebhookAsync(merchant.AccountId, merchant.Mode, id, cancellationToken) ?? throw ApiException.NotFound();
        if (names is not null)
        {
            names = WebhooksApi.CheckEvents(names, webhook.Product);
        }

        if (!webhook.Active)
        {
            throw ApiException.BadRequest("The webhook is disabled; enable it before replaying to it.", "id");
        }

        var now = time.GetUtcNow();
        var oldest = now - replay.Value.MaxAge;
        var queued = await store.ReplayWebhookAsync(
            new WebhookReplay(merchant.AccountId, merchant.Mode, id, from < oldest ? oldest : from, Paging.EndOfSecond(to), statuses, names is ["*"] ? null : names, now, schedule.Deadline(now)),
            cancellationToken);
        dispatcher.ClearFailures(id);
        dispatcher.Wake();
        return Results.Json(new ReplayView("replay", id, null, queued), ApiJson.Options, statusCode: 202);
    }

    private static async Task<IResult> TestAsync(
        string id, Merchant merchant, HttpRequest request, IWebhookStore webhooks, Ingestion ingestion, CancellationToken cancellationToken)
    {
        if (merchant.Mode != Modes.Test)
        {
            throw ApiException.BadRequest("Test fires are available with test-mode keys only.");
        }

        var raw = await BodyReader.ReadAsync(request, 4096, cancellationToken);
        var body = raw.Length == 0 ? null : RequestObject.Parse(raw, "event");
        var webhook = await webhooks.GetWebhookAsync(merchant.AccountId, merchant.Mode, id, cancellationToken) ?? throw ApiException.NotFound();
        if (!webhook.Active)
        {
            throw ApiException.BadRequest("The webhook is disabled; enable it before sending a test event.", "id");
        }

        var name = body?.String("event", maxLength: 128)
            ?? webhook.Events.FirstOrDefault(e => e != "*")
            ?? (webhook.Product == Products.Payouts ? "payout.processed" : "payment.captured");
        var type = EventCatalog.Default.Find(name);
        if (type is null || type.Product != webhook.Product)
        {
            throw ApiException.BadRequest($"Invalid event name/names: {name}", "event");
        }

        var evt = ingestion.Create(merchant.AccountId, merchant.Mode, type, SamplePayloads.For(type), ingestion.Now());
        var result = await ingestion.TestFireAsync(evt, webhook.Id, cancellationToken);
        if (result.Status != IngestStatus.Created)
        {
            throw ApiException.NotFound();
        }

        return Results.Json(new { id = evt.Id, entity = "event", @event = evt.Name, webhook_id = webhook.Id, created_at = ApiJson.Seconds(evt.CreatedAt) }, ApiJson.Options, statusCode: 201);
    }

    private static async Task<IResult> AuditAsync(string id, Merchant merchant, IWebhookStore store, CancellationToken cancellationToken)
    {
        var records = await store.ListAuditAsync(merchant.AccountId, merchant.Mode, id, cancellationToken);
        if (records.Count == 0)
        {
            throw ApiException.NotFound();
        }

        return Results.Json(
            new Collection<AuditView>([.. records.Select(r => new AuditView(r.Id, "audit_entry", r.WebhookId, r.Actor, r.Action, System.Text.Json.JsonDocument.Parse(r.Changes).RootElement.Clone(), ApiJson.Seconds(r.At)))]),
            ApiJson.Options);
    }

    private static DateTimeOffset Seconds(RequestObject body, string field)
    {
        if (body.Element(field) is not { ValueKind: System.Text.Json.JsonValueKind.Number } value || !value.TryGetInt64(out var seconds) || seconds < 0 || seconds > 253402300799)
        {
            throw ApiException.BadRequest($"The {field} must be a Unix timestamp in seconds.", field);
        }

        return DateTimeOffset.FromUnixTimeSeconds(seconds);
    }

    private sealed record AuditView(long Id, string Entity, string WebhookId, string Actor, string Action, System.Text.Json.JsonElement Changes, long At);
}

internal sealed record ReplayView(string Entity, string? WebhookId, string? EventId, int Queued);
