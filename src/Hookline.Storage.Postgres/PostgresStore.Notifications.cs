using System.Text.Json;
using Hookline.Core;
using Hookline.Core.Delivery;
using Hookline.Core.Notifications;
using Npgsql;

namespace Hookline.Storage.Postgres;

internal sealed partial class PostgresStore : INotificationStore
{
    private const string NotificationColumns = "id, account_id, mode, webhook_id, kind, recipient, facts, status, attempts, created_at, sent_at, last_reply, lease_token";

    /// <summary>Senders in several processes take disjoint notifications (SKIP LOCKED), as workers do with deliveries.</summary>
    public Task<IReadOnlyList<LeasedNotification>> LeaseNotificationsAsync(string owner, DateTimeOffset now, TimeSpan leaseDuration, int max, CancellationToken cancellationToken)
        => WriteAsync<IReadOnlyList<LeasedNotification>>(async (connection, transaction) =>
        {
            await using var lease = Command(connection, transaction, $"""
                WITH due AS (
                    SELECT id FROM notifications
                    WHERE status = '{NotificationStatus.Unsent}' AND next_attempt_at <= @now AND (lease_expires_at IS NULL OR lease_expires_at <= @now)
                    ORDER BY next_attempt_at
                    LIMIT @max
                    FOR UPDATE SKIP LOCKED
                )
                UPDATE notifications n SET lease_owner = @owner, lease_expires_at = @expires, lease_token = n.lease_token + 1
                FROM due WHERE n.id = due.id
                RETURNING {string.Join(", ", NotificationColumns.Split(", ").Select(c => "n." + c))}, n.next_attempt_at
                """, P("now", Ms(now)), P("max", max), P("owner", owner), P("expires", Ms(now + leaseDuration)));
            var leased = new List<(LeasedNotification Item, long Due)>();
            await using (var reader = await lease.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    leased.Add((new LeasedNotification(ReadNotification(reader), reader.GetInt64(12)), reader.GetInt64(13)));
                }
            }

            return [.. leased.OrderBy(l => l.Due).Select(l => l.Item)];
        }, cancellationToken);

    public Task<bool> CompleteNotificationAsync(NotificationResult result, CancellationToken cancellationToken)
        => WriteAsync(async (connection, transaction) =>
        {
            await using var update = Command(connection, transaction, $"""
                UPDATE notifications
                SET status = @status, attempts = attempts + 1, last_reply = @reply,
                    sent_at = CASE WHEN @status = '{NotificationStatus.Sent}' THEN @at ELSE sent_at END,
                    next_attempt_at = COALESCE(@next, next_attempt_at), lease_owner = NULL, lease_expires_at = NULL
                WHERE id = @id AND lease_token = @token AND lease_owner IS NOT NULL AND status = '{NotificationStatus.Unsent}'
                """,
                P("status", result.Status), P("reply", result.Reply.Length > 1000 ? result.Reply[..1000] : result.Reply), P("at", Ms(result.At)),
                P("next", Ms(result.NextAttemptAt)), P("id", result.Id), P("token", result.LeaseToken));
            return await update.ExecuteNonQueryAsync(cancellationToken) == 1;
        }, cancellationToken);

    public Task<IReadOnlyList<Notification>> ListNotificationsAsync(string? accountId, string? mode, int count, int skip, CancellationToken cancellationToken)
        => ReadAsync<IReadOnlyList<Notification>>(async connection =>
        {
            await using var command = Command(connection, null, $"""
                SELECT {NotificationColumns} FROM notifications
                WHERE (@a::text IS NULL OR account_id = @a) AND (@m::text IS NULL OR mode = @m)
                ORDER BY created_at DESC, id DESC LIMIT @count OFFSET @skip
                """, P("a", accountId), P("m", mode), P("count", count), P("skip", skip));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var list = new List<Notification>();
            while (await reader.ReadAsync(cancellationToken))
            {
                list.Add(ReadNotification(reader));
            }

            return list;
        }, cancellationToken);

    /// <summary>Inserts a notification unless this webhook already has one of this kind for this streak.</summary>
    private static async Task NotifyAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string webhookId, string kind, DateTimeOffset streakKey,
        NotificationFacts facts, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var insert = Command(connection, transaction, $"""
            INSERT INTO notifications (id, account_id, mode, webhook_id, kind, streak_key, recipient, facts, status, created_at, next_attempt_at)
            SELECT @id, w.account_id, w.mode, w.id, @kind, @streak, COALESCE(w.alert_email, a.email), @facts, '{NotificationStatus.Unsent}', @now, @now
            FROM webhooks w JOIN accounts a ON a.id = w.account_id
            WHERE w.id = @w
            ON CONFLICT (webhook_id, kind, streak_key) DO NOTHING
            """,
            P("id", Ids.New("ntf_")), P("kind", kind), P("streak", Ms(streakKey)), P("facts", JsonSerializer.Serialize(facts)),
            P("now", Ms(now)), P("w", webhookId));
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Whether the webhook already has a notification of this kind for this streak.</summary>
    private static async Task<bool> NotifiedAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string webhookId, string kind, DateTimeOffset streakKey, CancellationToken cancellationToken)
    {
        await using var find = Command(connection, transaction, "SELECT 1 FROM notifications WHERE webhook_id = @w AND kind = @k AND streak_key = @s",
            P("w", webhookId), P("k", kind), P("s", Ms(streakKey)));
        return await find.ExecuteScalarAsync(cancellationToken) is not null;
    }

    /// <summary>Deliveries of the webhook that are failing in the current streak: unfinished ones, all in deliveries_unfinished_by_webhook.</summary>
    internal const string FailingDeliveriesSql = $"""
        SELECT count(*) FROM deliveries
        WHERE webhook_id = @w
          AND ((status = '{DeliveryStatus.Pending}' AND attempts > 0) OR (status = '{DeliveryStatus.Failed}' AND completed_at >= @since))
        """;

    private static async Task<int> FailingDeliveriesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string webhookId, DateTimeOffset since, CancellationToken cancellationToken)
    {
        await using var count = Command(connection, transaction, FailingDeliveriesSql, P("w", webhookId), P("since", Ms(since)));
        return (int)(long)(await count.ExecuteScalarAsync(cancellationToken))!;
    }

    private static Notification ReadNotification(NpgsqlDataReader reader)
        => new(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5),
            JsonSerializer.Deserialize<NotificationFacts>(reader.GetString(6))!, reader.GetString(7), reader.GetInt32(8),
            Time(reader.GetInt64(9)), TimeOrNull(reader, 10), StringOrNull(reader, 11));
}
