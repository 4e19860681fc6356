using System.Text.Json;
using Hookline.Core.Events;
using Hookline.Core.Storage;
using Hookline.Server.Api;
using Hookline.Server.Auth;
using Hookline.Server.Deliveries;
using Hookline.Server.Hosting;
using Hookline.Server.Webhooks;
using Hookline.Core.Delivery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Hookline.Server.Events;

internal static class EventsApi
{
    public const string IdempotencyHeader = "Idempotency-Key";

    public static RouteGroupBuilder MapIngestionApi(this RouteGroupBuilder platform)
    {
        platform.MapPost("/events", IngestOneAsync);
        platform.MapPost("/events/batch", IngestBatchAsync);
        return platform;
    }

    public static RouteGroupBuilder MapEventsApi(this RouteGroupBuilder merchant)
    {
        merchant.MapGet("/events", ListAsync);
        merchant.MapGet("/events/{id}", GetAsync);
        merchant.MapPost("/events/{id}/replay", ReplayAsync);
        return merchant;
    }

    private static async Task<IResult> IngestOneAsync(HttpRequest request, Ingestion ingestion, IOptions<LimitsOptions> limits, CancellationToken cancellationToken)
    {
        var key = IdempotencyKey(request);
        var raw = await BodyReader.ReadAsync(request, limits.Value.MaxRequestBytes, cancellationToken);
        NewEvent evt;
        using (var document = RequestObject.ParseDocument(raw))
        {
            evt = ingestion.Parse(document.RootElement, "", ingestion.Now());
        }

        var result = await ingestion.IngestAsync([evt], key, Ingestion.RequestHash(key, request.Path, raw), cancellationToken);
        return Answer(result, request, r => IngestedView.From(r.Events[0], evt), _ => "account_id");
    }

    private static async Task<IResult> IngestBatchAsync(HttpRequest request, Ingestion ingestion, IOptions<LimitsOptions> limits, CancellationToken cancellationToken)
    {
        var key = IdempotencyKey(request);
        var raw = await BodyReader.ReadAsync(request, limits.Value.MaxRequestBytes, cancellationToken);
        List<NewEvent> events;
        using (var document = RequestObject.ParseDocument(raw))
        {
            var root = RequestObject.From(document.RootElement, "", "events");
            if (root.Element("events") is not { ValueKind: JsonValueKind.Array } array || array.GetArrayLength() == 0)
            {
                throw ApiException.BadRequest("The events field must be a non-empty array.", "events");
            }

            if (array.GetArrayLength() > limits.Value.MaxBatchEvents)
            {
                throw ApiException.BadRequest($"A batch holds at most {limits.Value.MaxBatchEvents} events.", "events");
            }

            var now = ingestion.Now();
            events = [.. array.EnumerateArray().Select((e, i) => ingestion.Parse(e, $"events[{i}].", now))];
        }

        var result = await ingestion.IngestAsync(events, key, Ingestion.RequestHash(key, request.Path, raw), cancellationToken);
        return Answer(
            result, request, r => new Collection<IngestedView>([.. r.Events.Select((e, i) => IngestedView.From(e, events[i]))]),
            unknown => $"events[{events.FindIndex(e => e.AccountId == unknown)}].account_id");
    }

    // accountField names the field holding an unknown account id, so that a batch error points at its event.
    private static IResult Answer<T>(IngestResult result, HttpRequest request, Func<IngestResult, T> view, Func<string?, string> accountField)
    {
        switch (result.Status)
        {
            case IngestStatus.IdempotencyConflict:
                throw new ApiException(409, "This Idempotency-Key was already used with a different request body.", IdempotencyHeader, "idempotency_conflict");
            case IngestStatus.UnknownAccount:
                throw ApiException.BadRequest($"The account {result.UnknownAccountId} does not exist.", accountField(result.UnknownAccountId));
            case IngestStatus.Replayed:
                request.HttpContext.Response.Headers["Idempotent-Replayed"] = "true";
                break;
        }

        return Results.Json(view(result), ApiJson.Options, statusCode: 201);
    }

    private static string? IdempotencyKey(HttpRequest request)
    {
        if (!request.Headers.TryGetValue(IdempotencyHeader, out var values))
        {
            return null;
        }

        var key = values.ToString();
        return values.Count == 1 && key.Length is > 0 and <= 255 && key.All(c => c is > ' ' and <= '~')
            ? key
            : throw ApiException.BadRequest("The Idempotency-Key header must be 1 to 255 printable ASCII characters without spaces.", IdempotencyHeader);
    }

    private static async Task<IResult> GetAsync(string id, Merchant merchant, IEventStore store, CancellationToken cancellationToken)
    {
        var stored = await store.GetEventAsync(merchant.AccountId, merchant.Mode, id, cancellationToken) ?? throw ApiException.NotFound();
        var deliveries = await store.ListEventDeliveriesAsync(stored.Id, cancellationToken);
        using var envelope = JsonDocument.Parse(stored.Body);
        return Results.Json(
            new EventView(stored.Id, "event", stored.Name, stored.Mode, ApiJson.Seconds(stored.CreatedAt), envelope.RootElement.Clone(), [.. deliveries.Select(DeliveryView.From)]),
            ApiJson.Options);
    }

    private static async Task<IResult> ListAsync(Merchant merchant, HttpRequest request, IEventStore store, CancellationToken cancellationToken)
    {
        var (count, skip) = Paging.Read(request);
        var name = Paging.Single(request, "event");
        if (name is not null && EventCatalog.Default.Find(name) is null)
        {
            throw ApiException.BadRequest($"Invalid event name/names: {(name.Any(char.IsControl) ? "(unprintable name)" : name)}", "event");
        }

        var events = await store.ListEventsAsync(
            new EventQuery(merchant.AccountId, merchant.Mode, Paging.Time(request, "from"), Paging.Time(request, "to") is { } to ? Paging.EndOfSecond(to) : null, name, count, skip), cancellationToken);
        return Results.Json(new Collection<EventSummaryView>([.. events.Select(EventSummaryView.From)]), ApiJson.Options);
    }

    private static async Task<IResult> ReplayAsync(
        string id, Merchant merchant, HttpRequest request, IEventStore store, Dispatcher dispatcher, RetrySchedule schedule,
        IOptions<ReplayOptions> replay, TimeProvider time, CancellationToken cancellationToken)
    {
        var raw = await BodyReader.ReadAsync(request, 4096, cancellationToken);
        var webhookId = raw.Length == 0 ? null : RequestObject.Parse(raw, "webhook_id").String("webhook_id", maxLength: 64);
        var stored = await store.GetEventAsync(merchant.AccountId, merchant.Mode, id, cancellationToken) ?? throw ApiException.NotFound();
        var now = time.GetUtcNow();
        if (stored.CreatedAt < now - replay.Value.MaxAge)
        {
            throw ApiException.BadRequest($"Events can be replayed for {replay.Value.MaxAge.TotalDays:0.##} days after they happen; this one is older.", "id");
        }

        var result = await store.ReplayEventAsync(merchant.AccountId, merchant.Mode, id, webhookId, now, schedule.Deadline(now), cancellationToken);
        switch (result.Status)
        {
            case ReplayStatus.EventNotFound:
                throw ApiException.NotFound();
            case ReplayStatus.NoSubscribedWebhook:
                throw webhookId is null
                    ? ApiException.BadRequest("No webhook was subscribed to this event when it happened.", "id")
                    : ApiException.BadRequest("That webhook was not subscribed to this event when it happened.", "webhook_id");
            case ReplayStatus.WebhookDisabled:
                throw ApiException.BadRequest("The webhook is disabled or deleted; enable it before replaying to it.", webhookId is null ? "id" : "webhook_id");
        }

        if (webhookId is not null)
        {
            dispatcher.ClearFailures(webhookId);
        }

        dispatcher.Wake();
        return Results.Json(new ReplayView("replay", webhookId, id, result.Queued), ApiJson.Options, statusCode: 202);
    }

    private sealed record EventSummaryView(string Id, string Entity, string Event, string Mode, long CreatedAt, JsonElement Envelope)
    {
        public static EventSummaryView From(StoredEvent e)
        {
            using var envelope = JsonDocument.Parse(e.Body);
            return new(e.Id, "event", e.Name, e.Mode, ApiJson.Seconds(e.CreatedAt), envelope.RootElement.Clone());
        }
    }

    private sealed record EventView(string Id, string Entity, string Event, string Mode, long CreatedAt, JsonElement Envelope, IReadOnlyList<DeliveryView> Deliveries);

    private sealed record IngestedView(string Id, string Entity, string AccountId, string Mode, string Event, long CreatedAt, int Deliveries, int Skipped)
    {
        public static IngestedView From(IngestedEvent ingested, NewEvent requested)
            => new(ingested.Id, "event", requested.AccountId, requested.Mode, requested.Name, ApiJson.Seconds(ingested.CreatedAt), ingested.Deliveries, ingested.Skipped);
    }
}
