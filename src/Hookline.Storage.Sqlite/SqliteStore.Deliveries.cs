using Hookline.Core.Delivery;
using Hookline.Core.Notifications;
using Hookline.Core.Observability;
using Hookline.Core.Storage;
using Microsoft.Data.Sqlite;

namespace Hookline.Storage.Sqlite;

internal sealed partial class SqliteStore
{
    private const string DeliveryColumns = """
        SELECT id, event_id, webhook_id, status, attempts, created_at, next_attempt_at, completed_at,
               last_status_code, last_error, account_id, mode
        FROM deliveries
        """;

    public Task<IReadOnlyList<LeasedDelivery>> LeaseDueAsync(LeaseRequest request, CancellationToken cancellationToken)
        => WriteAsync<IReadOnlyList<LeasedDelivery>>(async (_, transaction) =>
        {
            var statements = Statements;
            var expires = request.Now + request.LeaseDuration;
            var excluded = new HashSet<string>(request.ExcludedWebhooks, StringComparer.Ordinal);

            // First the oldest due deliveries, whatever their webhook: a bounded scan (a multiple of what we want),
            // so a backlog of millions costs the same as one of thousands. Excluded webhooks are left out after the
            // scan, not inside it: a filter inside would walk an excluded webhook's whole backlog looking for rows
            // it may take. Each webhook's share caps it so one endpoint's backlog cannot fill the batch.
            var scan = Math.Max(request.MaxDeliveries * 4, 1000);
            var (picked, scanFull) = await PickDueAsync(statements, transaction, request, excluded, scan, cancellationToken);
            var leased = await LeaseRowsAsync(statements, transaction, picked, request.Owner, expires, cancellationToken);
            if (leased.Count < request.MaxDeliveries && scanFull)
            {
                // The scan was full, so due work of other webhooks may lie beyond it (behind a backlog that was excluded
                // or capped). Look at every webhook not yet served instead: one index seek each.
                excluded.UnionWith(leased.Select(d => d.WebhookId));
                leased.AddRange(await LeasePerWebhookAsync(statements, transaction, request, excluded, request.MaxDeliveries - leased.Count, expires, cancellationToken));
            }

            return leased;
        }, cancellationToken, WriterWork.Lease);

    /// <summary>The due scan: rowids and webhooks of up to <c>scan</c> due, unleased deliveries, oldest first, by the due index.</summary>
    private const string DueRowsSql = $"""
        SELECT rowid, webhook_id FROM deliveries
        WHERE status = '{DeliveryStatus.Pending}' AND next_attempt_at <= $now
          AND (lease_expires_at IS NULL OR lease_expires_at <= $now)
        ORDER BY next_attempt_at
        LIMIT $scan
        """;

    /// <summary>
    /// Which of the scanned rows to lease, oldest first: exclusions and each webhook's share are applied here, in the
    /// scan's order, rather than in SQL, where ranking rows per webhook took a window function that sorted the whole
    /// scan again (a third of a lease round's time on one busy webhook). Also whether the scan came back full.
    /// </summary>
    private static async Task<(List<long> Rows, bool ScanFull)> PickDueAsync(
        WriterStatements statements, SqliteTransaction transaction, LeaseRequest request, HashSet<string> excluded, int scan, CancellationToken cancellationToken)
    {
        var picked = new List<long>();
        var shares = new Dictionary<string, int>(StringComparer.Ordinal);
        var scanned = 0;
        await using var reader = await statements.Command(transaction, DueRowsSql, ("$now", Ms(request.Now)), ("$scan", scan)).ExecuteReaderAsync(cancellationToken);
        while (picked.Count < request.MaxDeliveries && await reader.ReadAsync(cancellationToken))
        {
            scanned++;
            var webhookId = reader.GetString(1);
            var share = shares.GetValueOrDefault(webhookId);
            if (share < request.MaxPerWebhook && !excluded.Contains(webhookId))
            {
                shares[webhookId] = share + 1;
                picked.Add(reader.GetInt64(0));
            }
        }

        return (picked, scanned >= scan);
    }

    /// <summary>The rows to lease with what the dispatcher needs of them (<see cref="LeaseColumns"/>), and each one's rowid.</summary>
    private const string LeaseRowsSql = $"""
        SELECT {LeaseColumns}, d.rowid
        FROM json_each($rows) AS r
        JOIN deliveries d ON d.rowid = r.value
        JOIN webhooks w ON w.id = d.webhook_id
        JOIN events e ON e.id = d.event_id
        LEFT JOIN webhook_secrets s ON s.id = d.secret_id
        ORDER BY r.key
        """;

    /// <summary>Leases the deliveries at <paramref name="rows"/> (rowids), in that order.</summary>
    private static Task<List<LeasedDelivery>> LeaseRowsAsync(
        WriterStatements statements, SqliteTransaction transaction, List<long> rows, string owner, DateTimeOffset expires, CancellationToken cancellationToken)
        => rows.Count == 0
            ? Task.FromResult(new List<LeasedDelivery>())
            : LeaseSelectedAsync(statements, statements.Command(transaction, LeaseRowsSql, ("$rows", $"[{string.Join(',', rows)}]")), owner, expires, cancellationToken);

    /// <summary>
    /// Reads the rows <paramref name="select"/> returns (<see cref="LeaseColumns"/> and the rowid), then leases each
    /// one to <paramref name="owner"/> by its rowid. Read first, then write: SQLite leaves undefined a scan of rows its
    /// own connection changes meanwhile.
    /// </summary>
    private static async Task<List<LeasedDelivery>> LeaseSelectedAsync(
        WriterStatements statements, SqliteCommand select, string owner, DateTimeOffset expires, CancellationToken cancellationToken)
    {
        var leased = new List<LeasedDelivery>();
        var rowids = new List<long>();
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                leased.Add(ReadLeased(reader, expires));
                rowids.Add(reader.GetInt64(12));
            }
        }

        var update = statements.Prepared("UPDATE deliveries SET lease_owner = ?1, lease_expires_at = ?2, lease_token = ?3 WHERE rowid = ?4");
        for (var i = 0; i < leased.Count; i++)
        {
            update.Execute(owner, Ms(expires), leased[i].LeaseToken, rowids[i]);
        }

        return leased;
    }

    /// <summary>?1 status, ?2 attempts, ?3 trigger, ?4 next attempt, ?5 now, ?6 status code, ?7 attempted (0/1), ?8 error, ?9 id, ?10 lease token.</summary>
    private const string CompleteSql = $"""
        UPDATE deliveries
        SET status = ?1, attempts = ?2, trigger = ?3, next_attempt_at = ?4,
            completed_at = CASE WHEN ?1 = '{DeliveryStatus.Pending}' THEN NULL ELSE ?5 END,
            last_status_code = COALESCE(?6, CASE WHEN ?7 THEN NULL ELSE last_status_code END),
            last_error = CASE WHEN ?7 THEN ?8 ELSE COALESCE(?8, last_error) END,
            lease_owner = NULL, lease_expires_at = NULL
        WHERE id = ?9 AND lease_token = ?10 AND lease_owner IS NOT NULL AND status = '{DeliveryStatus.Pending}'
        """;

    private const string LeaseColumns = """
        d.id, d.event_id, d.webhook_id, d.account_id, w.url, e.body, e.created_at, s.ciphertext, d.attempts, d.trigger, d.lease_token, d.deadline_at
        """;

    /// <summary>Each webhook's oldest due deliveries, through deliveries_by_webhook_status (webhook_id, status, next_attempt_at).</summary>
    private const string PerWebhookSql = $"""
        SELECT {LeaseColumns}, d.rowid
        FROM webhooks w
        JOIN deliveries d ON d.id IN (
            SELECT id FROM deliveries
            WHERE webhook_id = w.id AND status = '{DeliveryStatus.Pending}' AND next_attempt_at <= $now
              AND (lease_expires_at IS NULL OR lease_expires_at <= $now)
            ORDER BY next_attempt_at
            LIMIT $perWebhook)
        JOIN events e ON e.id = d.event_id
        LEFT JOIN webhook_secrets s ON s.id = d.secret_id
        WHERE w.id NOT IN (SELECT value FROM json_each($excluded))
        ORDER BY d.next_attempt_at
        LIMIT $limit
        """;

    /// <summary>Up to <paramref name="limit"/> due deliveries of webhooks not in <paramref name="excluded"/>, each webhook's share at most.</summary>
    private static Task<List<LeasedDelivery>> LeasePerWebhookAsync(
        WriterStatements statements, SqliteTransaction transaction, LeaseRequest request, HashSet<string> excluded, int limit, DateTimeOffset expires,
        CancellationToken cancellationToken)
        => LeaseSelectedAsync(
            statements,
            statements.Command(transaction, PerWebhookSql,
                ("$now", Ms(request.Now)), ("$excluded", System.Text.Json.JsonSerializer.Serialize(excluded)),
                ("$perWebhook", request.MaxPerWebhook), ("$limit", limit)),
            request.Owner, expires, cancellationToken);

    /// <summary>A row of <see cref="LeaseColumns"/> as the delivery leased until <paramref name="expires"/>, with its next token.</summary>
    private static LeasedDelivery ReadLeased(SqliteDataReader reader, DateTimeOffset expires)
        => new(
            reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
            (byte[])reader.GetValue(5), Time(reader.GetInt64(6)), Time(reader.GetInt64(11)),
            reader.IsDBNull(7) ? null : (byte[])reader.GetValue(7),
            reader.GetInt32(8), reader.GetString(9), reader.GetInt64(10) + 1, expires);

    public Task<CompletionReport> CompleteAsync(CompletionBatch batch, CancellationToken cancellationToken)
        => WriteAsync(async (connection, transaction) =>
        {
            var statements = Statements;

            // A completion consumes its lease (lease_owner goes NULL), so the same batch written twice (retried
            // after a commit whose answer was lost) is discarded rather than applied again; the token alone does
            // not tell, because a completion that schedules a retry leaves the row pending with the same token.
            var complete = statements.Prepared(CompleteSql);
            var attempt = statements.Prepared("""
                INSERT INTO attempts (delivery_id, number, trigger, started_at, duration_ms, status_code, error, response_excerpt)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                """);

            int applied = 0, discarded = 0;
            var failedWebhooks = new Dictionary<string, (DateTimeOffset First, AttemptOutcome Last)>();
            var healthyWebhooks = new HashSet<string>();
            foreach (var c in batch.Completions)
            {
                var outcome = c.Outcome;
                var attempts = outcome is null ? c.AttemptNumber - 1 : c.AttemptNumber;
                if (complete.Execute(c.NewStatus, attempts, c.NewStatus == DeliveryStatus.Pending ? AttemptTrigger.Retry : c.Trigger, Ms(c.NextAttemptAt),
                    Ms(batch.Now), outcome?.StatusCode, outcome is null ? 0L : 1L, outcome?.Error.ToWire() ?? (outcome is null ? "deadline_passed" : null),
                    c.DeliveryId, c.LeaseToken) == 0)
                {
                    discarded++;
                    continue;
                }

                applied++;
                if (outcome is null)
                {
                    continue;
                }

                attempt.Execute(c.DeliveryId, c.AttemptNumber, c.Trigger, Ms(c.StartedAt), (long)outcome.Duration.TotalMilliseconds,
                    outcome.StatusCode, outcome.Error.ToWire(), outcome.ResponseExcerpt);

                if (outcome.Succeeded)
                {
                    healthyWebhooks.Add(c.WebhookId);
                    failedWebhooks.Remove(c.WebhookId);
                }
                else
                {
                    failedWebhooks[c.WebhookId] = failedWebhooks.TryGetValue(c.WebhookId, out var seen)
                        ? (c.StartedAt < seen.First ? c.StartedAt : seen.First, outcome)
                        : (c.StartedAt, outcome);
                }
            }

            foreach (var webhookId in healthyWebhooks.Where(w => !failedWebhooks.ContainsKey(w)))
            {
                await using var heal = Command(connection, transaction,
                    "UPDATE webhooks SET failing_since = NULL WHERE id = $w AND failing_since IS NOT NULL", ("$w", webhookId));
                await heal.ExecuteNonQueryAsync(cancellationToken);
            }

            var disabled = new List<string>();
            foreach (var (webhookId, (firstFailure, lastOutcome)) in failedWebhooks)
            {
                if (await RecordFailureStreakAsync(connection, transaction, webhookId, firstFailure, lastOutcome, batch, cancellationToken))
                {
                    disabled.Add(webhookId);
                }
            }

            return new CompletionReport(applied, discarded, disabled);
        }, cancellationToken, WriterWork.Results);

    /// <summary>
    /// Starts or extends the webhook's failure streak, writes the streak's notifications (first failure, half
    /// way, disabled: each at most once per streak) and disables the webhook when the streak has lasted
    /// <see cref="CompletionBatch.DisableAfter"/>. True when this call disabled it.
    /// </summary>
    private static async Task<bool> RecordFailureStreakAsync(
        SqliteConnection connection, SqliteTransaction transaction, string webhookId, DateTimeOffset firstFailure, AttemptOutcome lastOutcome,
        CompletionBatch batch, CancellationToken cancellationToken)
    {
        DateTimeOffset? previous;
        bool active;
        string url, mode;
        await using (var find = Command(connection, transaction, "SELECT failing_since, active, url, mode FROM webhooks WHERE id = $w", ("$w", webhookId)))
        await using (var reader = await find.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken))
            {
                return false;
            }

            previous = TimeOrNull(reader, 0);
            active = reader.GetInt64(1) == 1;
            url = reader.GetString(2);
            mode = reader.GetString(3);
        }

        var failingSince = previous ?? firstFailure;
        if (previous is null)
        {
            await using var start = Command(connection, transaction, "UPDATE webhooks SET failing_since = $first WHERE id = $w", ("$first", Ms(firstFailure)), ("$w", webhookId));
            await start.ExecuteNonQueryAsync(cancellationToken);
        }

        if (!active)
        {
            return false;
        }

        var disableAt = failingSince + batch.DisableAfter;
        var disableNow = disableAt <= batch.Now;
        var halfway = !disableNow && failingSince + (batch.DisableAfter / 2) <= batch.Now
            && !await NotifiedAsync(connection, transaction, webhookId, NotificationKind.FailureStreakHalfway, failingSince, cancellationToken);
        if (previous is not null && !disableNow && !halfway)
        {
            // The usual case: a streak already announced goes on, and there is nothing to write. The facts below count
            // the streak's failing deliveries, a walk of the webhook's whole backlog: only for a notification.
            return false;
        }

        var excerpt = lastOutcome.ResponseExcerpt is { Length: > 300 } longExcerpt ? longExcerpt[..300] : lastOutcome.ResponseExcerpt;
        var facts = new NotificationFacts(
            url, mode, failingSince, disableAt, disableNow ? batch.Now : null,
            await FailingDeliveriesAsync(connection, transaction, webhookId, failingSince, cancellationToken),
            lastOutcome.StatusCode, lastOutcome.Error.ToWire(), excerpt);

        if (previous is null)
        {
            await NotifyAsync(connection, transaction, webhookId, NotificationKind.FailureStreakStarted, failingSince, facts, batch.Now, cancellationToken);
        }

        if (disableNow)
        {
            await using var disable = Command(connection, transaction,
                "UPDATE webhooks SET active = 0, disabled_at = $now, disabled_reason = $reason, updated_at = $now WHERE id = $w",
                ("$now", Ms(batch.Now)), ("$w", webhookId),
                ("$reason", $"failing continuously since {failingSince:yyyy-MM-dd HH:mm:ss} UTC"));
            await disable.ExecuteNonQueryAsync(cancellationToken);
            await CancelPendingAsync(connection, transaction, webhookId, batch.Now, cancellationToken);
            await NotifyAsync(connection, transaction, webhookId, NotificationKind.WebhookDisabled, failingSince, facts, batch.Now, cancellationToken);
            return true;
        }

        if (halfway)
        {
            await NotifyAsync(connection, transaction, webhookId, NotificationKind.FailureStreakHalfway, failingSince, facts, batch.Now, cancellationToken);
        }

        return false;
    }

    /// <summary>SQLITE_TOOBIG, SQLITE_CONSTRAINT (a trigger's RAISE included) and SQLITE_MISMATCH; busy, locked, I/O and full disk are worth waiting out.</summary>
    public bool RefusesData(Exception exception) => exception is SqliteException { SqliteErrorCode: 18 or 19 or 20 };

    public Task<DeliveryDetail?> GetDeliveryAsync(string accountId, string mode, string deliveryId, CancellationToken cancellationToken)
        => ReadAsync(async connection =>
        {
            await using var command = Command(connection, null, $"{DeliveryColumns} WHERE id = $id AND account_id = $a AND mode = $m",
                ("$id", deliveryId), ("$a", accountId), ("$m", mode));
            var found = await ReadDeliveriesAsync(command, cancellationToken);
            if (found.Count == 0)
            {
                return null;
            }

            await using var attemptsQuery = Command(connection, null, """
                SELECT number, trigger, started_at, duration_ms, status_code, error, response_excerpt
                FROM attempts WHERE delivery_id = $id ORDER BY number
                """, ("$id", deliveryId));
            await using var reader = await attemptsQuery.ExecuteReaderAsync(cancellationToken);
            var attempts = new List<AttemptRecord>();
            while (await reader.ReadAsync(cancellationToken))
            {
                attempts.Add(new AttemptRecord(reader.GetInt32(0), reader.GetString(1), Time(reader.GetInt64(2)), reader.GetInt32(3),
                    IntOrNull(reader, 4), StringOrNull(reader, 5), StringOrNull(reader, 6)));
            }

            return new DeliveryDetail(found[0].Summary, found[0].AccountId, found[0].Mode, attempts);
        }, cancellationToken);

    public Task<IReadOnlyList<DeliverySummary>> ListEventDeliveriesAsync(string eventId, CancellationToken cancellationToken)
        => ReadAsync<IReadOnlyList<DeliverySummary>>(async connection =>
        {
            await using var command = Command(connection, null, $"{DeliveryColumns} WHERE event_id = $e ORDER BY created_at, id", ("$e", eventId));
            return [.. (await ReadDeliveriesAsync(command, cancellationToken)).Select(d => d.Summary)];
        }, cancellationToken);

    public Task<IReadOnlyDictionary<string, long>> CountDeliveriesAsync(CancellationToken cancellationToken)
        => ReadAsync<IReadOnlyDictionary<string, long>>(async connection =>
        {
            await using var command = Command(connection, null, "SELECT status, count(*) FROM deliveries GROUP BY status");
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var counts = new Dictionary<string, long>();
            while (await reader.ReadAsync(cancellationToken))
            {
                counts[reader.GetString(0)] = reader.GetInt64(1);
            }

            return counts;
        }, cancellationToken);

    private static async Task<List<(DeliverySummary Summary, string AccountId, string Mode)>> ReadDeliveriesAsync(SqliteCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<(DeliverySummary, string, string)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add((new DeliverySummary(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt32(4),
                Time(reader.GetInt64(5)), TimeOrNull(reader, 6), TimeOrNull(reader, 7), IntOrNull(reader, 8), StringOrNull(reader, 9)),
                reader.GetString(10), reader.GetString(11)));
        }

        return list;
    }
}
