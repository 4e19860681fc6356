using Hookline.Core.Storage;
using Hookline.Server.Api;
using Hookline.Server.Auth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Hookline.Server.Deliveries;

internal static class DeliveriesApi
{
    public static RouteGroupBuilder MapDeliveriesApi(this RouteGroupBuilder merchant)
    {
        merchant.MapGet("/deliveries/{id}", GetAsync);
        return merchant;
    }

    private static async Task<IResult> GetAsync(string id, Merchant merchant, IDeliveryStore store, CancellationToken cancellationToken)
    {
        var detail = await store.GetDeliveryAsync(merchant.AccountId, merchant.Mode, id, cancellationToken) ?? throw ApiException.NotFound();
        return Results.Json(DeliveryView.From(detail.Delivery) with { Attempts = [.. detail.Attempts.Select(AttemptView.From)] }, ApiJson.Options);
    }
}

internal sealed record DeliveryView(
    string Id,
    string Entity,
    string EventId,
    string WebhookId,
    string Status,
    int AttemptCount,
    long CreatedAt,
    long? NextAttemptAt,
    long? CompletedAt,
    int? LastStatusCode,
    string? LastError,
    IReadOnlyList<AttemptView>? Attempts)
{
    public static DeliveryView From(DeliverySummary d) => new(
        d.Id, "delivery", d.EventId, d.WebhookId, d.Status, d.Attempts, ApiJson.Seconds(d.CreatedAt), ApiJson.Seconds(d.NextAttemptAt),
        ApiJson.Seconds(d.CompletedAt), d.LastStatusCode, d.LastError, null);
}

internal sealed record AttemptView(int Number, string Trigger, long StartedAt, int DurationMs, int? StatusCode, string? Error, string? ResponseExcerpt)
{
    public static AttemptView From(AttemptRecord a) => new(a.Number, a.Trigger, ApiJson.Seconds(a.StartedAt), a.DurationMs, a.StatusCode, a.Error, a.ResponseExcerpt);
}
