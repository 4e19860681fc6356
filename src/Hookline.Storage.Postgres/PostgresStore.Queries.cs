using Hookline.Core.Delivery;
using Hookline.Core.Events;
using Hookline.Core.Storage;

namespace Hookline.Storage.Postgres;

internal sealed partial class PostgresStore
{
    /// <summary>Back to pending, due now, with its own retry window; the attempts history stays.</summary>
    private const string RequeueSql = $"""
        UPDATE deliveries
        SET status = '{DeliveryStatus.Pending}', trigger = '{AttemptTrigger.Replay}', next_attempt_at = @now, deadline_at = @deadline,
            completed_at = NULL, lease_owner = NULL, lease_expires_at = NULL
        """;

    /// <summary>
    /// A page of the webhook's deliveries, newest first: the rows through deliveries_by_webhook in that order, cut at the
    /// page's end before they meet the few deferred ones, so a page costs its own rows, not the webhook's history. Asked of
    /// all_deliveries as a whole, the planner sorted every row of the webhook (20,000 rows read for a page of 20: a test
    /// reads the plan).
    /// </summary>
    internal const string WebhookDeliveriesSql = $"""
        SELECT id, event_id, webhook_id, status, attempts, created_at, next_attempt_at, completed_at, last_status_code, last_error, account_id, mode
        FROM (
            (SELECT {DeliveryRowColumns} FROM deliveries WHERE webhook_id = @w AND (@status::text IS NULL OR status = @status)
             ORDER BY created_at DESC, id DESC LIMIT @count + @skip)
            UNION ALL
            (SELECT {DeliveryRowColumns} FROM granted_deliveries WHERE webhook_id = @w AND (@status::text IS NULL OR status = @status))
        ) AS page
        ORDER BY created_at DESC, id DESC LIMIT @count OFFSET @skip
        """;

    public Task<IReadOnlyList<StoredEvent>> ListEventsAsync(EventQuery query, CancellationToken cancellationToken)
        => ReadAsync<IReadOnlyList<StoredEvent>>(async connection =>
        {
            await using var command = Command(connection, null, """
                SELECT id, account_id, mode, name, body, created_at FROM events
                WHERE account_id = @a AND mode = @m
                  AND (@from::bigint IS NULL OR created_at >= @from) AND (@to::bigint IS NULL OR created_at <= @to)
                  AND (@name::text IS NULL OR name = @name)
                ORDER BY created_at DESC, id DESC
                LIMIT @count OFFSET @skip
                """,
                P("a", query.AccountId), P("m", query.Mode), P("from", Ms(query.From)), P("to", Ms(query.To)), P("name", query.EventName),
                P("count", query.Count), P("skip", query.Skip));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var events = new List<StoredEvent>();
            while (await reader.ReadAsync(cancellationToken))
            {
                events.Add(ReadEvent(reader));
            }

            return events;
        }, cancellationToken);

    public Task<IReadOnlyList<DeliverySummary>?> ListWebhookDeliveriesAsync(string accountId, string mode, string webhookId, string? status, int count, int skip, CancellationToken cancellationToken)
        => ReadAsync<IReadOnlyList<DeliverySummary>?>(async connection =>
        {
            await using (var exists = Command(connection, null, "SELECT 1 FROM webhooks WHERE id = @w AND account_id = @a AND mode = @m", P("w", webhookId), P("a", accountId), P("m", mode)))
            {
                if (await exists.ExecuteScalarAsync(cancellationToken) is null)
                {
                    return null;
                }
            }

            await using var command = Command(connection, null, WebhookDeliveriesSql,
                P("w", webhookId), P("status", status), P("count", count), P("skip", skip));
            return [.. (await ReadDeliveriesAsync(command, cancellationToken)).Select(d => d.Summary)];
        }, cancellationToken);

    public Task<ReplayResult> ReplayEventAsync(string accountId, string mode, string eventId, string? webhookId, DateTimeOffset now, DateTimeOffset deadline, CancellationToken cancellationToken)
        => WriteAsync(async (connection, transaction, effects) =>
        {
            await using (var exists = Command(connection, transaction, "SELECT 1 FROM events WHERE id = @e AND account_id = @a AND mode = @m", P("e", eventId), P("a", accountId), P("m", mode)))
            {
                if (await exists.ExecuteScalarAsync(cancellationToken) is null)
                {
                    return new ReplayResult(ReplayStatus.EventNotFound, 0);
                }
            }

            // The deliveries are locked so that "in flight" is decided on their latest state (a completion being
            // committed now is waited for), and the webhooks FOR KEY SHARE as in ingestion: a concurrent disable
            // waits for this commit and then cancels what it queued. Deferred rows are written first, as they stand.
            await MaterializeForEventAsync(connection, transaction, eventId, cancellationToken);
            var candidates = new List<(string Id, string Status, bool Usable, bool InFlight)>();
            await using (var find = Command(connection, transaction, """
                SELECT d.id, d.status, w.active AND w.deleted_at IS NULL, COALESCE(d.lease_expires_at > @now, false)
                FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id
                WHERE d.event_id = @e AND (@w::text IS NULL OR d.webhook_id = @w)
                ORDER BY d.id
                FOR UPDATE OF d FOR KEY SHARE OF w
                """, P("e", eventId), P("w", webhookId), P("now", Ms(now))))
            await using (var reader = await find.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    candidates.Add((reader.GetString(0), reader.GetString(1), reader.GetBoolean(2), reader.GetBoolean(3)));
                }
            }

            if (candidates.Count == 0)
            {
                return new ReplayResult(ReplayStatus.NoSubscribedWebhook, 0);
            }

            var usable = candidates.Where(c => c.Usable).ToList();
            // A pending delivery being attempted right now is counted: that attempt is the replay.
            var requeue = usable.Where(c => !(c.Status == DeliveryStatus.Pending && c.InFlight)).Select(c => c.Id).ToArray();
            if (requeue.Length > 0)
            {
                await using var command = Command(connection, transaction, RequeueSql + " WHERE id = ANY(@ids)", P("now", Ms(now)), P("deadline", Ms(deadline)), P("ids", requeue));
                await command.ExecuteNonQueryAsync(cancellationToken);
                effects.QueuedWork = true;
            }

            return usable.Count == 0 ? new ReplayResult(ReplayStatus.WebhookDisabled, 0) : new ReplayResult(ReplayStatus.Queued, usable.Count);
        }, cancellationToken);

    public Task<int> ReplayWebhookAsync(WebhookReplay replay, CancellationToken cancellationToken)
        => WriteAsync(async (connection, transaction, effects) =>
        {
            await MaterializeForWebhooksAsync(connection, transaction, [replay.WebhookId], cancellationToken);
            await using var requeue = Command(connection, transaction, RequeueSql + """
                 WHERE webhook_id = @w AND account_id = @a AND mode = @m
                   AND status = ANY(@statuses)
                   AND event_id IN (
                       SELECT id FROM events
                       WHERE account_id = @a AND mode = @m AND created_at >= @from AND created_at <= @to
                         AND (@names::text[] IS NULL OR name = ANY(@names)))
                """,
                P("now", Ms(replay.Now)), P("deadline", Ms(replay.Deadline)),
                P("w", replay.WebhookId), P("a", replay.AccountId), P("m", replay.Mode),
                P("statuses", replay.Statuses.ToArray()), P("from", Ms(replay.From)), P("to", Ms(replay.To)),
                P("names", replay.EventNames?.ToArray()));
            var queued = await requeue.ExecuteNonQueryAsync(cancellationToken);
            if (queued > 0)
            {
                effects.QueuedWork = true;
            }

            return queued;
        }, cancellationToken);
}
