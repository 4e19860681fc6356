using System.Text.Json;
using Hookline.Core;
using Hookline.Core.Delivery;
using Hookline.Core.Notifications;
using Microsoft.Data.Sqlite;

namespace Hookline.Storage.Sqlite;

internal sealed partial class SqliteStore : INotificationStore
{
    private const string NotificationColumns = """
        SELECT id, account_id, mode, webhook_id, kind, recipient, facts, status, attempts, created_at, sent_at, last_reply, lease_token
        FROM notifications
        """;

    public Task<IReadOnlyList<LeasedNotification>> LeaseNotificationsAsync(string owner, DateTimeOffset now, TimeSpan leaseDuration, int max, CancellationToken cancellationToken)
        => WriteAsync<IReadOnlyList<LeasedNotification>>(async (connection, transaction) =>
        {
            await using var select = Command(connection, transaction, $"""
                {NotificationColumns}
                WHERE status = '{NotificationStatus.Unsent}' AND next_attempt_at <= $now AND (lease_expires_at IS NULL OR lease_expires_at <= $now)
                ORDER BY next_attempt_at LIMIT $max
                """, ("$now", Ms(now)), ("$max", max));
            var leased = new List<LeasedNotification>();
            await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    leased.Add(new LeasedNotification(ReadNotification(reader), reader.GetInt64(12) + 1));
                }
            }

            foreach (var item in leased)
            {
                await using var update = Command(connection, transaction,
                    "UPDATE notifications SET lease_owner = $o, lease_expires_at = $x, lease_token = $t WHERE id = $id",
                    ("$o", owner), ("$x", Ms(now + leaseDuration)), ("$t", item.LeaseToken), ("$id", item.Notification.Id));
                await update.ExecuteNonQueryAsync(cancellationToken);
            }

            return leased;
        }, cancellationToken);

    public Task<bool> CompleteNotificationAsync(NotificationResult result, CancellationToken cancellationToken)
        => WriteAsync(async (connection, transaction) =>
        {
            await using var update = Command(connection, transaction, $"""
                UPDATE notifications
                SET status = $status, attempts = attempts + 1, last_reply = $reply,
                    sent_at = CASE WHEN $status = '{NotificationStatus.Sent}' THEN $at ELSE sent_at END,
                    next_attempt_at = COALESCE($next, next_attempt_at), lease_owner = NULL, lease_expires_at = NULL
                WHERE id = $id AND lease_token = $token AND lease_owner IS NOT NULL AND status = '{NotificationStatus.Unsent}'
                """,
                ("$status", result.Status), ("$reply", result.Reply.Length > 1000 ? result.Reply[..1000] : result.Reply), ("$at", Ms(result.At)),
                ("$next", Ms(result.NextAttemptAt)), ("$id", result.Id), ("$token", result.LeaseToken));
            return await update.ExecuteNonQueryAsync(cancellationToken) == 1;
        }, cancellationToken);

    public Task<IReadOnlyList<Notification>> ListNotificationsAsync(string? accountId, string? mode, int count, int skip, CancellationToken cancellationToken)
        => ReadAsync<IReadOnlyList<Notification>>(async connection =>
        {
            await using var command = Command(connection, null, $"""
                {NotificationColumns}
                WHERE ($a IS NULL OR account_id = $a) AND ($m IS NULL OR mode = $m)
                ORDER BY created_at DESC, id DESC LIMIT $count OFFSET $skip
                """, ("$a", accountId), ("$m", mode), ("$count", count), ("$skip", skip));
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
        SqliteConnection connection, SqliteTransaction transaction, string webhookId, string kind, DateTimeOffset streakKey,
        NotificationFacts facts, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var insert = Command(connection, transaction, $"""
            INSERT INTO notifications (id, account_id, mode, webhook_id, kind, streak_key, recipient, facts, status, created_at, next_attempt_at)
            SELECT $id, w.account_id, w.mode, w.id, $kind, $streak, COALESCE(w.alert_email, a.email), $facts, '{NotificationStatus.Unsent}', $now, $now
            FROM webhooks w JOIN accounts a ON a.id = w.account_id
            WHERE w.id = $w
            ON CONFLICT (webhook_id, kind, streak_key) DO NOTHING
            """,
            ("$id", Ids.New("ntf_")), ("$kind", kind), ("$streak", Ms(streakKey)), ("$facts", JsonSerializer.Serialize(facts)),
            ("$now", Ms(now)), ("$w", webhookId));
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Whether the webhook already has a notification of this kind for this streak.</summary>
    private static async Task<bool> NotifiedAsync(
        SqliteConnection connection, SqliteTransaction transaction, string webhookId, string kind, DateTimeOffset streakKey, CancellationToken cancellationToken)
    {
        await using var find = Command(connection, transaction, "SELECT 1 FROM notifications WHERE webhook_id = $w AND kind = $k AND streak_key = $s",
            ("$w", webhookId), ("$k", kind), ("$s", Ms(streakKey)));
        return await find.ExecuteScalarAsync(cancellationToken) is not null;
    }

    /// <summary>Deliveries of the webhook that are failing in the current streak.</summary>
    private static async Task<int> FailingDeliveriesAsync(SqliteConnection connection, SqliteTransaction transaction, string webhookId, DateTimeOffset since, CancellationToken cancellationToken)
    {
        await using var count = Command(connection, transaction, $"""
            SELECT count(*) FROM deliveries
            WHERE webhook_id = $w
              AND ((status = '{DeliveryStatus.Pending}' AND attempts > 0) OR (status = '{DeliveryStatus.Failed}' AND completed_at >= $since))
            """, ("$w", webhookId), ("$since", Ms(since)));
        return Convert.ToInt32(await count.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static Notification ReadNotification(SqliteDataReader reader)
        => new(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5),
            JsonSerializer.Deserialize<NotificationFacts>(reader.GetString(6))!, reader.GetString(7), reader.GetInt32(8),
            Time(reader.GetInt64(9)), TimeOrNull(reader, 10), StringOrNull(reader, 11));
}
