using Hookline.Core.Notifications;
using Hookline.Server.Api;
using Hookline.Server.Auth;
using Hookline.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Hookline.Server.Notifications;

internal static class NotificationsApi
{
    /// <summary>
    /// <c>GET /v1/notifications</c> answers both callers: a merchant (Basic) sees its own account and mode; the
    /// platform (Bearer) sees every account, optionally filtered with <c>account_id</c>.
    /// </summary>
    public static IEndpointRouteBuilder MapNotificationsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/notifications", ListAsync);
        return app;
    }

    private static async Task<IResult> ListAsync(HttpContext context, INotificationStore store, PlatformToken token, AuthFailureLimiter limiter, CancellationToken cancellationToken)
    {
        string? accountId;
        string? mode;
        var header = context.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            limiter.ThrowIfBlocked(context);
            if (header.Length > 512 || !token.Matches(header["Bearer ".Length..].Trim()))
            {
                limiter.RecordFailure(context);
                throw MerchantAuthFilter.Unauthorized();
            }

            accountId = Paging.Single(context.Request, "account_id");
            mode = null;
        }
        else
        {
            var merchant = await Merchant.AuthenticateAsync(context);
            (accountId, mode) = (merchant.AccountId, merchant.Mode);
        }

        var (count, skip) = Paging.Read(context.Request);
        var notifications = await store.ListNotificationsAsync(accountId, mode, count, skip, cancellationToken);
        return Results.Json(new Collection<NotificationView>([.. notifications.Select(NotificationView.From)]), ApiJson.Options);
    }

    private sealed record NotificationView(string Id, string Entity, string Kind, string WebhookId, string AccountId, string Mode, string Recipient, string Status, int Attempts, long CreatedAt, long? SentAt, string? LastReply)
    {
        public static NotificationView From(Notification n)
            => new(n.Id, "notification", n.Kind, n.WebhookId, n.AccountId, n.Mode, n.Recipient, n.Status, n.Attempts, ApiJson.Seconds(n.CreatedAt), ApiJson.Seconds(n.SentAt), n.LastReply);
    }
}
