using Hookline.Core.Delivery;
using Hookline.Core.Notifications;
using Hookline.Core.Storage;
using Npgsql;

namespace Hookline.Storage.Postgres;

internal sealed partial class PostgresStore
{
    /// <summary>Deliveries as the API reads them: deferred ones too (all_deliveries, migration 0005).</summary>
    private const string DeliveryColumns = """
        SELECT id, event_id, webhook_id, status, attempts, created_at, next_attempt_at, completed_at,
               last_status_code, last_error, account_id, mode
        FROM all_deliveries
        """;

    /// <summary>
    /// The first round: the scan locks up to <c>@scan</c> due rows in due order, skipping rows another worker is
    /// leasing right now (SKIP LOCKED), so concurrent workers take disjoint work without waiting for each other.
    /// The scan is bounded (a multiple of what we want) so a backlog of millions costs the same as one of
    /// thousands. Excluded webhooks are left out after the scan, not inside it (a filter inside would walk an
    /// excluded webhook's whole backlog); ROW_NUMBER then caps each webhook's share, and the rows not chosen are
    /// unlocked at commit. Always one row at least, with the number of rows scanned (<see cref="LeasedReadSql"/>).
    /// </summary>
    internal const string DueScanSql = $"""
        WITH candidates AS (
            SELECT id, webhook_id, next_attempt_at FROM deliveries
            WHERE status = '{DeliveryStatus.Pending}' AND next_attempt_at <= @now
              AND (lease_expires_at IS NULL OR lease_expires_at <= @now)
            ORDER BY next_attempt_at
            LIMIT @scan
            FOR UPDATE SKIP LOCKED
        ),
        chosen AS (
            SELECT id FROM (
                SELECT id, next_attempt_at, ROW_NUMBER() OVER (PARTITION BY webhook_id ORDER BY next_attempt_at, id) AS rank
                FROM candidates
                WHERE webhook_id <> ALL(@excluded)
            ) AS ranked
            WHERE rank <= @perWebhook
            ORDER BY next_attempt_at, id
            LIMIT @limit
        ),
        {LeaseChosenSql} (SELECT count(*) FROM candidates)
        {LeasedReadSql}
        """;

    /// <summary>
    /// The second round, when the first scan was full: each webhook not yet served, its oldest due deliveries
    /// through deliveries_unfinished_by_webhook (webhook_id, status, next_attempt_at), one index seek each. The
    /// status is tested as a range of one value, which means the same as <c>=</c> but does not prove deliveries_due's
    /// predicate: offered deliveries_due, the planner walked it in due order once per webhook, through every row of
    /// the backlog that filled the first round (4.4 ms a webhook, 92 ms a round, on 20,000 rows of one webhook ahead
    /// of nineteen others; 0.3 ms a round through the seek). A test EXPLAINs this shape.
    /// </summary>
    internal const string PerWebhookSql = $"""
        WITH chosen AS (
            SELECT d.id FROM webhooks w
            CROSS JOIN LATERAL (
                SELECT id, next_attempt_at FROM deliveries
                WHERE webhook_id = w.id AND status BETWEEN '{DeliveryStatus.Pending}' AND '{DeliveryStatus.Pending}' AND next_attempt_at <= @now
                  AND (lease_expires_at IS NULL OR lease_expires_at <= @now)
                ORDER BY status, next_attempt_at
                LIMIT @perWebhook
                FOR UPDATE SKIP LOCKED
            ) AS d
            WHERE w.id <> ALL(@excluded)
            ORDER BY d.next_attempt_at, d.id
            LIMIT @limit
        ),
        {LeaseChosenSql} NULL::bigint
        {LeasedReadSql}
        """;

    /// <summary>
    /// Settings for the lease transaction, so that the first round's scan walks deliveries_due in due order and stops at
    /// <c>@scan</c> rows whatever the statistics say. Planned from statistics that know of no backlog (a table never
    /// analysed, or analysed before the backlog built up: on a table of millions of finished rows, autovacuum analyses
    /// again only after a tenth of them changed), the scan read every due row, through a bitmap scan or
    /// deliveries_unfinished_by_webhook, and sorted them all before the limit: each round the whole backlog, at the moment
    /// a drain needs rounds to be cheap. Sorting is what those plans need and the ordered walk does not, so with sorts
    /// (and bitmap and sequential scans) priced out the walk wins; the sorts the rounds cannot do without (ranking a
    /// round's rows) are still made. JIT off as well: the priced-out plans' costs pass PostgreSQL's JIT threshold, and
    /// compiling a lease statement took about a second. A test EXPLAINs this.
    /// </summary>
    internal const string LeasePlanningSql = "SET LOCAL enable_sort = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_seqscan = off; SET LOCAL jit = off";

    /// <summary>The first round, under <see cref="LeasePlanningSql"/>, after the sweep of expired deferred groups (<see cref="SweepExpiredGrantsSql"/>): one round trip.</summary>
    private const string SweepThenDueScanSql = $"{LeasePlanningSql};\n{SweepExpiredGrantsSql};\n{DueScanSql}";

    /// <summary>
    /// Leases what the round chose and reads what an attempt needs. Its statements end with the number of rows the round
    /// scanned (the first round's; NULL in the second), then <see cref="LeasedReadSql"/>.
    /// </summary>
    private const string LeaseChosenSql = """
        leased AS (
            UPDATE deliveries d
            SET lease_owner = @owner, lease_expires_at = @expires, lease_token = d.lease_token + 1
            FROM chosen WHERE d.id = chosen.id
            RETURNING d.id, d.event_id, d.webhook_id, d.account_id, d.secret_id, d.attempts, d.trigger, d.lease_token,
                      d.deadline_at, d.next_attempt_at
        )
        SELECT l.id, l.event_id, l.webhook_id, l.account_id, w.url, e.body, e.created_at, s.ciphertext,
               l.attempts, l.trigger, l.lease_token, l.deadline_at,
        """;

    /// <summary>One row with NULL leased columns when nothing was leased, so that the count comes back whatever happened.</summary>
    private const string LeasedReadSql = """
        FROM (SELECT 1) AS always
        LEFT JOIN (leased l
                   JOIN webhooks w ON w.id = l.webhook_id
                   JOIN events e ON e.id = l.event_id
                   LEFT JOIN webhook_secrets s ON s.id = l.secret_id) ON true
        ORDER BY l.next_attempt_at, l.id
        """;

    /// <summary>
    /// Settings for the results transaction, so that <see cref="CompleteSql"/> finds each row of the batch by its primary
    /// key whatever the statistics say. Left to the planner, a table whose statistics lag behind a growing backlog (a
    /// fresh database, an endpoint that went down) gets plans that visit every pending delivery for each batch: a cached
    /// generic plan walked them through the partial index deliveries_due once per id of the batch (2.5 s a batch of
    /// 1,024 at ~8,000 pending: the bench S3 stall), and a custom plan hashed all of them (~100 ms a batch at ~14,000,
    /// growing with the backlog: S4's slowdown once its black-holed webhook had piled up). So: a plan made for each
    /// batch, and no hash join, merge join, sequential or bitmap scan, which leaves a nested loop over the batch with an
    /// index probe per row. Nor a Materialize node: statistics taken while no row was leased and pending (deferred rows
    /// are inserted finished and unleased) promised a handful of such rows, and the plan read all of them from the
    /// primary key into one and compared each with every id of the batch (70–170 ms a batch in a PostgreSQL S1).
    /// docs/postgres.md, Prepared statements and plans.
    /// </summary>
    internal const string CompletePlanningSql = """
        SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off;
        SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_material = off
        """;

    /// <summary>
    /// Puts <see cref="CompletePlanningSql"/>'s settings back once <see cref="CompleteSql"/> has run. Left in force, they
    /// reach the foreign-key check of every attempt inserted after it (a query of its own per row, run inside the
    /// server): forced to a custom plan, each of those checks was planned again, a third of the server's time for the
    /// foreign-key checks in a PostgreSQL S1 (docs/benchmarks.md).
    /// </summary>
    internal const string CompletePlanningResetSql = """
        SET LOCAL plan_cache_mode TO DEFAULT; SET LOCAL enable_hashjoin TO DEFAULT; SET LOCAL enable_mergejoin TO DEFAULT;
        SET LOCAL enable_seqscan TO DEFAULT; SET LOCAL enable_bitmapscan TO DEFAULT; SET LOCAL enable_material TO DEFAULT
        """;

    /// <summary>The planner settings, <see cref="CompleteSql"/> under them, and the settings put back: one round trip.</summary>
    private const string CompleteInOneRoundTripSql = $"{CompletePlanningSql};\n{CompleteSql};\n{CompletePlanningResetSql}";

    /// <summary>As <see cref="CompleteInOneRoundTripSql"/>, the deferred rows of the batch written first (<see cref="InsertDeferredSql"/>).</summary>
    private const string CompleteDeferredInOneRoundTripSql = $"{InsertDeferredSql};\n{CompleteInOneRoundTripSql}";

    /// <summary>
    /// Applies a batch of results to the rows still leased with the same token, and names what it applied. The test
    /// that the row is still leased and pending is compared with something of the batch's (c.id is never NULL, so it
    /// means "is true"): a condition on both sides is a join condition, so neither the statistics of lease_owner and
    /// status can make the table look nearly empty to the planner (it then scanned the table once and ran the batch
    /// against each row: see <see cref="CompletePlanningSql"/>), nor can it prove deliveries_due's predicate: the only
    /// index left to the plan is the primary key, probed once per result. A delivery's first attempt goes into the row's
    /// first_attempt_* columns (migration 0006), as a deferred delivery's does, instead of a row of attempts: the update
    /// rewrites the row anyway, so the attempt costs a few of its columns instead of an insert and a foreign-key check.
    /// The third column returned says so.
    /// </summary>
    internal const string CompleteSql = $"""
        UPDATE deliveries d
        SET status = c.status, attempts = c.attempts,
            trigger = CASE WHEN c.status = '{DeliveryStatus.Pending}' THEN '{AttemptTrigger.Retry}' ELSE c.trigger END,
            next_attempt_at = c.next,
            completed_at = CASE WHEN c.status = '{DeliveryStatus.Pending}' THEN NULL ELSE @now END,
            last_status_code = COALESCE(c.code, CASE WHEN c.attempted THEN NULL ELSE d.last_status_code END),
            last_error = CASE WHEN c.attempted THEN c.error ELSE COALESCE(c.error, d.last_error) END,
            lease_owner = NULL, lease_expires_at = NULL,
            first_attempt_trigger = CASE WHEN d.first_attempt_started_at IS NULL AND c.started IS NOT NULL THEN c.trigger ELSE d.first_attempt_trigger END,
            first_attempt_started_at = CASE WHEN d.first_attempt_started_at IS NULL THEN c.started ELSE d.first_attempt_started_at END,
            first_attempt_duration_ms = CASE WHEN d.first_attempt_started_at IS NULL THEN c.ms ELSE d.first_attempt_duration_ms END,
            first_attempt_status_code = CASE WHEN d.first_attempt_started_at IS NULL THEN c.acode ELSE d.first_attempt_status_code END,
            first_attempt_error = CASE WHEN d.first_attempt_started_at IS NULL THEN c.aerror ELSE d.first_attempt_error END,
            first_attempt_response_excerpt = CASE WHEN d.first_attempt_started_at IS NULL THEN c.excerpt ELSE d.first_attempt_response_excerpt END
        FROM unnest(@id::text[], @token::bigint[], @status::text[], @attempts::integer[], @trigger::text[], @next::bigint[],
                    @code::integer[], @attempted::boolean[], @error::text[], @fstarted::bigint[], @fms::integer[], @facode::integer[], @faerror::text[], @fexcerpt::text[])
             AS c(id, token, status, attempts, trigger, next, code, attempted, error, started, ms, acode, aerror, excerpt)
        WHERE d.id = c.id AND d.lease_token = c.token
          AND (d.lease_owner IS NOT NULL AND d.status = '{DeliveryStatus.Pending}') IS NOT DISTINCT FROM (c.id IS NOT NULL)
        RETURNING d.id, c.token, c.started IS NOT NULL AND d.first_attempt_started_at IS NOT DISTINCT FROM c.started
        """;

    public Task<IReadOnlyList<LeasedDelivery>> LeaseDueAsync(LeaseRequest request, CancellationToken cancellationToken)
        => WriteAsync<IReadOnlyList<LeasedDelivery>>(async (connection, transaction) =>
        {
            var expires = request.Now + request.LeaseDuration;
            var scan = Math.Max(request.MaxDeliveries * 4, 1000);
            var excluded = new HashSet<string>(request.ExcludedWebhooks, StringComparer.Ordinal);
            var (leased, scanned) = await LeaseRoundAsync(
                connection, transaction, SweepThenDueScanSql, request, excluded, scan, request.MaxDeliveries, expires, cancellationToken);
            if (leased.Count < request.MaxDeliveries && scanned >= scan)
            {
                // The scan was full, so due work of other webhooks may lie beyond it (behind a backlog that was
                // excluded or capped): look at every webhook not yet served. (The round counts what it scanned: a
                // query of its own for that cost 9 ms a round over a backlog, a fifth of a PostgreSQL drain's statement time.)
                excluded.UnionWith(leased.Select(d => d.WebhookId));
                leased.AddRange((await LeaseRoundAsync(
                    connection, transaction, PerWebhookSql, request, excluded, scan, request.MaxDeliveries - leased.Count, expires, cancellationToken)).Leased);
            }

            return leased;
        }, cancellationToken);

    /// <summary>One round: what it leased, and how many due rows it scanned (the first round's; 0 in the second).</summary>
    private static async Task<(List<LeasedDelivery> Leased, long Scanned)> LeaseRoundAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, LeaseRequest request, HashSet<string> excluded, int scan, int limit,
        DateTimeOffset expires, CancellationToken cancellationToken)
    {
        long scanned = 0;
        await using var select = Command(connection, transaction, sql,
            P("now", Ms(request.Now)), P("scan", scan), P("perWebhook", (long)request.MaxPerWebhook),
            P("owner", request.Owner), P("expires", Ms(expires)), P("excluded", excluded.ToArray()), P("limit", limit));
        var round = new List<LeasedDelivery>();
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        do
        {
            // The sweep before the first round returns no rows; the round's statement returns one at least (LeasedReadSql).
            while (await reader.ReadAsync(cancellationToken))
            {
                scanned = reader.IsDBNull(12) ? 0 : reader.GetInt64(12);
                if (reader.IsDBNull(0))
                {
                    continue;
                }

                round.Add(new LeasedDelivery(
                    reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                    reader.GetFieldValue<byte[]>(5), Time(reader.GetInt64(6)), Time(reader.GetInt64(11)), BytesOrNull(reader, 7),
                    reader.GetInt32(8), reader.GetString(9), reader.GetInt64(10), expires));
            }
        }
        while (await reader.NextResultAsync(cancellationToken));

        return (round, scanned);
    }

    public async Task<CompletionReport> CompleteAsync(CompletionBatch batch, CancellationToken cancellationToken)
    {
        var report = await WriteCompletionsAsync(batch, cancellationToken);
        // Committed: what it settled is no longer open, applied or not (a result discarded was someone else's to write).
        _deferred.Settle(batch.Completions.Where(c => c.Deferred is not null), batch.Now);
        return report;
    }

    private Task<CompletionReport> WriteCompletionsAsync(CompletionBatch batch, CancellationToken cancellationToken)
        => WriteAsync(async (connection, transaction) =>
        {
            var completions = batch.Completions;

            // No webhook row is locked up front: the common case (successes of healthy webhooks) then locks only
            // this worker's own delivery rows, so a worker frozen inside this transaction blocks no one else. A
            // failure streak or auto-disable racing a merchant's disable can deadlock; PostgreSQL detects it and
            // the transaction runs again (WriteAsync).

            // A completion consumes its lease (lease_owner goes NULL), so the same batch written twice (retried
            // after a commit whose answer was lost) is discarded rather than applied again; the token alone does
            // not tell, because a completion that schedules a retry leaves the row pending with the same token.
            // A batch may hold results of two leases of one delivery (a write that kept failing outlasted the first
            // lease, and this worker leased and attempted it again): what applied is named by id and token, so the
            // stale result is neither recorded as an attempt nor counted in the webhook's streak.
            //
            // Deferred deliveries (PostgresStore.Deferred.cs) get their row here, in the same round trip: the insert comes
            // first, and the update then finds the rows it wrote unleased and leaves them alone, so each result applies
            // once, by whichever statement names it. The update still names every result: a deferred row written
            // meanwhile (a cancel, a replay, a sweep after the lease ran out) takes the result as any leased row would.
            var deferred = completions.Where(c => c.Deferred is not null).ToArray();
            var applied = new HashSet<(string Id, long Token)>();
            var folded = new HashSet<(string Id, long Token)>();
            NpgsqlParameter[] parameters =
            [
                P("now", Ms(batch.Now)),
                P("id", completions.Select(c => c.DeliveryId).ToArray()),
                P("token", completions.Select(c => c.LeaseToken).ToArray()),
                P("status", completions.Select(c => c.NewStatus).ToArray()),
                P("attempts", completions.Select(AttemptsAfter).ToArray()),
                P("trigger", completions.Select(c => c.Trigger).ToArray()),
                P("next", completions.Select(c => Ms(c.NextAttemptAt)).ToArray()),
                P("code", completions.Select(c => c.Outcome?.StatusCode).ToArray()),
                P("attempted", completions.Select(c => c.Outcome is not null).ToArray()),
                P("error", completions.Select(ErrorAfter).ToArray()),
                .. FirstAttemptParameters(completions, "f"),
                .. deferred.Length > 0 ? DeferredParameters(deferred) : [],
            ];
            await using (var complete = Command(connection, transaction, deferred.Length > 0 ? CompleteDeferredInOneRoundTripSql : CompleteInOneRoundTripSql, parameters))
            await using (var reader = await complete.ExecuteReaderAsync(cancellationToken))
            {
                do
                {
                    while (await reader.ReadAsync(cancellationToken))
                    {
                        applied.Add((reader.GetString(0), reader.GetInt64(1)));
                        if (reader.GetBoolean(2))
                        {
                            folded.Add((reader.GetString(0), reader.GetInt64(1)));
                        }
                    }
                }
                while (await reader.NextResultAsync(cancellationToken));
            }

            var attempted = completions.Where(c => c.Outcome is not null && applied.Contains((c.DeliveryId, c.LeaseToken))).ToArray();
            var settled = deferred.Length > 0 ? _deferred.SettledBy(deferred) : [];
            // A first attempt is in its row already (InsertDeferredSql, CompleteSql).
            await InsertAttemptsAsync(connection, transaction, [.. attempted.Where(c => !folded.Contains((c.DeliveryId, c.LeaseToken)))], settled, cancellationToken);

            var failedWebhooks = new SortedDictionary<string, (DateTimeOffset First, AttemptOutcome Last)>(StringComparer.Ordinal);
            var healthyWebhooks = new HashSet<string>(StringComparer.Ordinal);
            foreach (var c in attempted)
            {
                var outcome = c.Outcome!;
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

            var disabled = await RecordStreaksAsync(connection, transaction, [.. healthyWebhooks.Where(w => !failedWebhooks.ContainsKey(w))], failedWebhooks, batch, cancellationToken);
            return new CompletionReport(applied.Count, completions.Count - applied.Count, disabled);
        }, cancellationToken);

    /// <summary>
    /// Class 22 (data exception) and class 23 (integrity constraint violation). Everything else is worth waiting out:
    /// connection failures, a server shutting down or starting (57P01, 57P03), lack of resources (class 53).
    /// </summary>
    public bool RefusesData(Exception exception) => exception is PostgresException { SqlState: ['2', '2' or '3', ..] };

    public Task<DeliveryDetail?> GetDeliveryAsync(string accountId, string mode, string deliveryId, CancellationToken cancellationToken)
        => ReadAsync(async connection =>
        {
            await using var command = Command(connection, null, $"{DeliveryColumns} WHERE id = @id AND account_id = @a AND mode = @m",
                P("id", deliveryId), P("a", accountId), P("m", mode));
            var found = await ReadDeliveriesAsync(command, cancellationToken);
            if (found.Count == 0)
            {
                return null;
            }

            await using var attemptsQuery = Command(connection, null, """
                SELECT number, trigger, started_at, duration_ms, status_code, error, response_excerpt
                FROM all_attempts WHERE delivery_id = @id ORDER BY number
                """, P("id", deliveryId));
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
            await using var command = Command(connection, null, $"{DeliveryColumns} WHERE event_id = @e ORDER BY created_at, id", P("e", eventId));
            return [.. (await ReadDeliveriesAsync(command, cancellationToken)).Select(d => d.Summary)];
        }, cancellationToken);

    public Task<IReadOnlyDictionary<string, long>> CountDeliveriesAsync(CancellationToken cancellationToken)
        => ReadAsync<IReadOnlyDictionary<string, long>>(async connection =>
        {
            await using var command = Command(connection, null, "SELECT status, count(*) FROM all_deliveries GROUP BY status");
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var counts = new Dictionary<string, long>();
            while (await reader.ReadAsync(cancellationToken))
            {
                counts[reader.GetString(0)] = reader.GetInt64(1);
            }

            return counts;
        }, cancellationToken);

    /// <summary>FOR UPDATE waits for ingestions and replays holding the row FOR KEY SHARE (see PostgresStore.Webhooks.cs).</summary>
    private static async Task LockWebhookForUpdateAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string webhookId, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, "SELECT 1 FROM webhooks WHERE id = @id FOR UPDATE", P("id", webhookId));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The attempts recorded, and the deferred groups this batch <paramref name="settled"/> deleted, in one round trip.</summary>
    private static async Task InsertAttemptsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Completion[] attempted, string[] settled, CancellationToken cancellationToken)
    {
        var statements = new List<string>();
        var parameters = new List<NpgsqlParameter>();
        if (attempted.Length > 0)
        {
            statements.Add("""
                INSERT INTO attempts (delivery_id, number, trigger, started_at, duration_ms, status_code, error, response_excerpt)
                SELECT * FROM unnest(@id::text[], @n::integer[], @trigger::text[], @at::bigint[], @ms::integer[], @code::integer[], @error::text[], @excerpt::text[])
                """);
            parameters.AddRange(
            [
                P("id", attempted.Select(c => c.DeliveryId).ToArray()),
                P("n", attempted.Select(c => c.AttemptNumber).ToArray()),
                P("trigger", attempted.Select(c => c.Trigger).ToArray()),
                P("at", attempted.Select(c => Ms(c.StartedAt)).ToArray()),
                P("ms", attempted.Select(c => (int)c.Outcome!.Duration.TotalMilliseconds).ToArray()),
                P("code", attempted.Select(c => c.Outcome!.StatusCode).ToArray()),
                P("error", attempted.Select(c => c.Outcome!.Error.ToWire()).ToArray()),
                P("excerpt", attempted.Select(c => c.Outcome!.ResponseExcerpt).ToArray()),
            ]);
        }

        if (settled.Length > 0)
        {
            statements.Add(DeleteSettledGrantsSql);
            parameters.Add(P("settled", settled));
        }

        if (statements.Count == 0)
        {
            return;
        }

        await using var command = Command(connection, transaction, string.Join(";\n", statements), [.. parameters]);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Clears the streaks of webhooks that succeeded and records the failures of the others (in id order).</summary>
    private static async Task<List<string>> RecordStreaksAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string[] healthy, SortedDictionary<string, (DateTimeOffset First, AttemptOutcome Last)> failed,
        CompletionBatch batch, CancellationToken cancellationToken)
    {
        if (healthy.Length > 0)
        {
            await using var heal = Command(connection, transaction,
                "UPDATE webhooks SET failing_since = NULL WHERE id = ANY(@ids) AND failing_since IS NOT NULL", P("ids", healthy));
            await heal.ExecuteNonQueryAsync(cancellationToken);
        }

        var disabled = new List<string>();
        foreach (var (webhookId, (firstFailure, lastOutcome)) in failed)
        {
            if (await RecordFailureStreakAsync(connection, transaction, webhookId, firstFailure, lastOutcome, batch, cancellationToken))
            {
                disabled.Add(webhookId);
            }
        }

        return disabled;
    }

    /// <summary>
    /// Starts or extends the webhook's failure streak, writes the streak's notifications (first failure, half
    /// way, disabled: each at most once per streak) and disables the webhook when the streak has lasted
    /// <see cref="CompletionBatch.DisableAfter"/>. True when this call disabled it. Same rules as the SQLite store.
    /// </summary>
    private static async Task<bool> RecordFailureStreakAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string webhookId, DateTimeOffset firstFailure, AttemptOutcome lastOutcome,
        CompletionBatch batch, CancellationToken cancellationToken)
    {
        // Workers write their result batches concurrently, so a streak is started or announced only under the webhook's
        // row lock, and decided on what was read under it: a batch that lands second then sees the streak the first
        // started instead of starting (and announcing) its own. The usual case, a streak already announced that has not
        // reached half way, writes nothing and takes no lock.
        if (await ReadStreakAsync(connection, transaction, webhookId, lockRow: false, cancellationToken) is not { } seen)
        {
            return false;
        }

        if (seen.FailingSince is { } ongoing && (!seen.Active || batch.Now < ongoing + (batch.DisableAfter / 2)))
        {
            return false;
        }

        if (await ReadStreakAsync(connection, transaction, webhookId, lockRow: true, cancellationToken) is not { } locked)
        {
            return false;
        }

        var (previous, active, url, mode) = locked;
        var failingSince = previous ?? firstFailure;
        if (previous is null)
        {
            await using var start = Command(connection, transaction, "UPDATE webhooks SET failing_since = @first WHERE id = @w", P("first", Ms(firstFailure)), P("w", webhookId));
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
            // A streak already announced (and warned of, if past half way) goes on: nothing to write. The facts below
            // count the streak's failing deliveries, a walk of the webhook's whole backlog: only for a notification.
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
            // So that no ingestion commits a pending delivery behind the cancel.
            await LockWebhookForUpdateAsync(connection, transaction, webhookId, cancellationToken);
            await using (var disable = Command(connection, transaction,
                "UPDATE webhooks SET active = false, disabled_at = @now, disabled_reason = @reason, updated_at = @now WHERE id = @w",
                P("now", Ms(batch.Now)), P("w", webhookId),
                P("reason", $"failing continuously since {failingSince:yyyy-MM-dd HH:mm:ss} UTC")))
            {
                await disable.ExecuteNonQueryAsync(cancellationToken);
            }

            await CancelPendingAsync(connection, transaction, [webhookId], batch.Now, cancellationToken);
            await NotifyAsync(connection, transaction, webhookId, NotificationKind.WebhookDisabled, failingSince, facts, batch.Now, cancellationToken);
            return true;
        }

        if (halfway)
        {
            await NotifyAsync(connection, transaction, webhookId, NotificationKind.FailureStreakHalfway, failingSince, facts, batch.Now, cancellationToken);
        }

        return false;
    }

    /// <summary>FOR NO KEY UPDATE: it serialises streak writers without waiting for ingestions' FOR KEY SHARE.</summary>
    private static async Task<(DateTimeOffset? FailingSince, bool Active, string Url, string Mode)?> ReadStreakAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string webhookId, bool lockRow, CancellationToken cancellationToken)
    {
        var sql = "SELECT failing_since, active, url, mode FROM webhooks WHERE id = @w" + (lockRow ? " FOR NO KEY UPDATE" : "");
        await using var find = Command(connection, transaction, sql, P("w", webhookId));
        await using var reader = await find.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? (TimeOrNull(reader, 0), reader.GetBoolean(1), reader.GetString(2), reader.GetString(3))
            : null;
    }

    private static async Task<List<(DeliverySummary Summary, string AccountId, string Mode)>> ReadDeliveriesAsync(NpgsqlCommand command, CancellationToken cancellationToken)
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
