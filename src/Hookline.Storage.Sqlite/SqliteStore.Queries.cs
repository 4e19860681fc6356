using Hookline.Core.Delivery;
using Hookline.Core.Events;
using Hookline.Core.Storage;

namespace Hookline.Storage.Sqlite;

internal sealed partial class SqliteStore
{
    public Task<IReadOnlyList<StoredEvent>> ListEventsAsync(EventQuery query, CancellationToken cancellationToken)
        => ReadAsync<IReadOnlyList<StoredEvent>>(async connection =>
        {
            await using var command = Command(connection, null, """
                SELECT id, account_id, mode, name, body, created_at FROM events
                WHERE account_id = $a AND mode = $m
                  AND ($from IS NULL OR created_at >= $from) AND ($to IS NULL OR created_at <= $to)
                  AND ($name IS NULL OR name = $name)
                ORDER BY created_at DESC, id DESC
                LIMIT $count OFFSET $skip
                """,
                ("$a", query.AccountId), ("$m", query.Mode), ("$from", Ms(query.From)), ("$to", Ms(query.To)), ("$name", query.EventName),
                ("$count", query.Count), ("$skip", query.Skip));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var events = new List<StoredEvent>();
            while (await reader.ReadAsync(cancellationToken))
            {
                events.Add(new StoredEvent(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), (byte[])reader.GetValue(4), Time(reader.GetInt64(5))));
            }

            return events;
        }, cancellationToken);

    public Task<IReadOnlyList<DeliverySummary>?> ListWebhookDeliveriesAsync(string accountId, string mode, string webhookId, string? status, int count, int skip, CancellationToken cancellationToken)
        => ReadAsync<IReadOnlyList<DeliverySummary>?>(async connection =>
        {
            await using (var exists = Command(connection, null, "SELECT 1 FROM webhooks WHERE id = $w AND account_id = $a AND mode = $m", ("$w", webhookId), ("$a", accountId), ("$m", mode)))
            {
                if (await exists.ExecuteScalarAsync(cancellationToken) is null)
                {
                    return null;
                }
            }

            await using var command = Command(connection, null,
                $"{DeliveryColumns} WHERE webhook_id = $w AND ($status IS NULL OR status = $status) ORDER BY created_at DESC, id DESC LIMIT $count OFFSET $skip",
                ("$w", webhookId), ("$status", status), ("$count", count), ("$skip", skip));
            return [.. (await ReadDeliveriesAsync(command, cancellationToken)).Select(d => d.Summary)];
        }, cancellationToken);

    public Task<ReplayResult> ReplayEventAsync(string accountId, string mode, string eventId, string? webhookId, DateTimeOffset now, DateTimeOffset deadline, CancellationToken cancellationToken)
        => WriteAsync(async (connection, transaction) =>
        {
            await using (var exists = Command(connection, transaction, "SELECT 1 FROM events WHERE id = $e AND account_id = $a AND mode = $m", ("$e", eventId), ("$a", accountId), ("$m", mode)))
            {
                if (await exists.ExecuteScalarAsync(cancellationToken) is null)
                {
                    return new ReplayResult(ReplayStatus.EventNotFound, 0);
                }
            }

            var candidates = new List<(string Id, string Status, bool Usable, bool InFlight)>();
            await using (var find = Command(connection, transaction, """
                SELECT d.id, d.status, w.active = 1 AND w.deleted_at IS NULL, COALESCE(d.lease_expires_at > $now, 0)
                FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id
                WHERE d.event_id = $e AND ($w IS NULL OR d.webhook_id = $w)
                """, ("$e", eventId), ("$w", webhookId), ("$now", Ms(now))))
            await using (var reader = await find.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    candidates.Add((reader.GetString(0), reader.GetString(1), reader.GetInt64(2) == 1, reader.GetInt64(3) == 1));
                }
            }

            if (candidates.Count == 0)
            {
                return new ReplayResult(ReplayStatus.NoSubscribedWebhook, 0);
            }

            var queued = 0;
            foreach (var candidate in candidates.Where(c => c.Usable))
            {
                queued++;
                if (candidate.Status == DeliveryStatus.Pending && candidate.InFlight)
                {
                    // Being attempted right now; that attempt is the replay.
                    continue;
                }

                await using var requeue = Command(connection, transaction, RequeueSql + " WHERE id = $id", RequeueParameters(now, deadline, ("$id", candidate.Id)));
                await requeue.ExecuteNonQueryAsync(cancellationToken);
            }

            return queued == 0 ? new ReplayResult(ReplayStatus.WebhookDisabled, 0) : new ReplayResult(ReplayStatus.Queued, queued);
        }, cancellationToken);

    public Task<int> ReplayWebhookAsync(WebhookReplay replay, CancellationToken cancellationToken)
        => WriteAsync(async (connection, transaction) =>
        {
            await using var requeue = Command(connection, transaction, RequeueSql + """
                 WHERE webhook_id = $w AND account_id = $a AND mode = $m
                   AND status IN (SELECT value FROM json_each($statuses))
                   AND event_id IN (
                       SELECT id FROM events
                       WHERE account_id = $a AND mode = $m AND created_at >= $from AND created_at <= $to
                         AND ($names IS NULL OR name IN (SELECT value FROM json_each($names))))
                """,
                RequeueParameters(replay.Now, replay.Deadline,
                    ("$w", replay.WebhookId), ("$a", replay.AccountId), ("$m", replay.Mode),
                    ("$statuses", System.Text.Json.JsonSerializer.Serialize(replay.Statuses)),
                    ("$from", Ms(replay.From)), ("$to", Ms(replay.To)),
                    ("$names", replay.EventNames is null ? null : System.Text.Json.JsonSerializer.Serialize(replay.EventNames))));
            return await requeue.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);

    /// <summary>Back to pending, due now, with its own retry window; the attempts history stays.</summary>
    private const string RequeueSql = $"""
        UPDATE deliveries
        SET status = '{DeliveryStatus.Pending}', trigger = '{AttemptTrigger.Replay}', next_attempt_at = $now, deadline_at = $deadline,
            completed_at = NULL, lease_owner = NULL, lease_expires_at = NULL
        """;

    private static (string, object?)[] RequeueParameters(DateTimeOffset now, DateTimeOffset deadline, params (string, object?)[] more)
        => [("$now", Ms(now)), ("$deadline", Ms(deadline)), .. more];
}
