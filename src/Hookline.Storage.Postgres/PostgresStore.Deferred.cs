using Hookline.Core.Delivery;
using Hookline.Core.Events;
using Hookline.Core.Webhooks;
using Npgsql;

namespace Hookline.Storage.Postgres;

/// <summary>
/// Deferred rows (migration 0005, docs/postgres.md): the deliveries an ingestion group leases to its own worker are
/// written as one <c>delivery_grants</c> row of column arrays, and each delivery's own row is written once, in its state
/// after the first attempt. Everything else that needs such a row first writes it as ingestion used to (materialises
/// it): leased to the worker with token 1, so the fence the worker's completion meets is the one it always met.
/// </summary>
internal sealed partial class PostgresStore
{
    private const string DeliveryRowColumns = """
        id, event_id, webhook_id, account_id, mode, secret_id, status, trigger, attempts, created_at, next_attempt_at,
        deadline_at, completed_at, last_status_code, last_error, lease_owner, lease_expires_at, lease_token
        """;

    /// <summary>Writes the rows of the deferred entries the filter names, as they stand; rows already written are left alone.</summary>
    private const string MaterializeSql = $"""
        INSERT INTO deliveries ({DeliveryRowColumns})
        SELECT {DeliveryRowColumns} FROM granted_deliveries
        """;

    /// <summary>
    /// Groups whose lease has run out: their owner died or stalled. Their entries are written as rows (leased until the
    /// expired time, so the due scan in the same transaction takes them like any lease that ran out) and the groups
    /// deleted. SKIP LOCKED: a group another worker is sweeping, or its owner deleting, is left to them.
    /// </summary>
    internal const string SweepExpiredGrantsSql = $"""
        WITH expired AS (
            SELECT id FROM delivery_grants WHERE lease_expires_at <= @now
            ORDER BY lease_expires_at
            LIMIT 64
            FOR UPDATE SKIP LOCKED
        ),
        written AS (
            {MaterializeSql} WHERE grant_id IN (SELECT id FROM expired)
            ON CONFLICT (id) DO NOTHING
        )
        DELETE FROM delivery_grants WHERE id IN (SELECT id FROM expired)
        """;

    /// <summary>
    /// The row of each deferred delivery in its state after this attempt, unless the row was written meanwhile (then
    /// <see cref="CompleteSql"/> applies the result to it, fenced as any other). A row written here is not leased, so
    /// the same batch written twice finds it and applies nothing. Token 1 is the token the deferred entry stood for.
    /// The attempt itself goes into the row's first_attempt_* columns (migration 0006) instead of a row of attempts;
    /// the third column returned says so (as <see cref="CompleteSql"/>'s does for the rows it updates).
    /// </summary>
    internal const string InsertDeferredSql = $"""
        INSERT INTO deliveries ({DeliveryRowColumns}, {FirstAttemptColumns})
        SELECT c.id, c.e, c.w, c.a, c.m, c.s, c.status,
               CASE WHEN c.status = '{DeliveryStatus.Pending}' THEN '{AttemptTrigger.Retry}' ELSE c.trigger END,
               c.attempts, c.at, c.next, c.deadline,
               CASE WHEN c.status = '{DeliveryStatus.Pending}' THEN NULL ELSE @now END,
               c.code, c.error, NULL, NULL, 1,
               CASE WHEN c.started IS NOT NULL THEN c.trigger END, c.started, c.ms, c.acode, c.aerror, c.excerpt
        FROM unnest(@did::text[], @de::text[], @dw::text[], @da::text[], @dm::text[], @ds::text[], @dstatus::text[], @dtrigger::text[],
                    @dattempts::integer[], @dat::bigint[], @dnext::bigint[], @ddeadline::bigint[], @dcode::integer[], @derror::text[],
                    @dstarted::bigint[], @dms::integer[], @dacode::integer[], @daerror::text[], @dexcerpt::text[])
             AS c(id, e, w, a, m, s, status, trigger, attempts, at, next, deadline, code, error, started, ms, acode, aerror, excerpt)
        ON CONFLICT (id) DO NOTHING
        RETURNING id, lease_token, first_attempt_started_at IS NOT NULL
        """;

    private const string FirstAttemptColumns = """
        first_attempt_trigger, first_attempt_started_at, first_attempt_duration_ms, first_attempt_status_code, first_attempt_error,
        first_attempt_response_excerpt
        """;

    /// <summary>
    /// Deletes the groups named once every entry of theirs has its row; a group with an entry still deferred stays. One
    /// primary-key probe per entry (a scalar subquery, as in the granted_deliveries view: never an anti-join over deliveries).
    /// </summary>
    private const string DeleteSettledGrantsSql = """
        DELETE FROM delivery_grants g
        WHERE g.id = ANY(@settled)
          AND NOT EXISTS (SELECT 1 FROM unnest(g.delivery_ids) AS x(id) WHERE (SELECT true FROM deliveries d WHERE d.id = x.id) IS NULL)
        """;

    private readonly DeferredGroups _deferred = new();

    /// <summary>Writes the rows of the webhooks' deferred deliveries (before their pending work is cancelled or replayed).</summary>
    private static Task MaterializeForWebhooksAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string[] webhookIds, CancellationToken cancellationToken)
        => MaterializeAsync(connection, transaction, "webhook_id = ANY(@m)", P("m", webhookIds), cancellationToken);

    /// <summary>Writes the rows of the event's deferred deliveries (before a replay reads them).</summary>
    private static Task MaterializeForEventAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string eventId, CancellationToken cancellationToken)
        => MaterializeAsync(connection, transaction, "event_id = @m", P("m", eventId), cancellationToken);

    private static async Task MaterializeAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string filter, NpgsqlParameter value, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, $"{MaterializeSql} WHERE {filter} ON CONFLICT (id) DO NOTHING", value);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static NpgsqlParameter[] DeferredParameters(Completion[] deferred) =>
    [
        P("did", deferred.Select(c => c.DeliveryId).ToArray()),
        P("de", deferred.Select(c => c.Deferred!.EventId).ToArray()),
        P("dw", deferred.Select(c => c.WebhookId).ToArray()),
        P("da", deferred.Select(c => c.Deferred!.AccountId).ToArray()),
        P("dm", deferred.Select(c => c.Deferred!.Mode).ToArray()),
        P("ds", deferred.Select(c => c.Deferred!.SecretId).ToArray()),
        P("dstatus", deferred.Select(c => c.NewStatus).ToArray()),
        P("dtrigger", deferred.Select(c => c.Trigger).ToArray()),
        P("dattempts", deferred.Select(AttemptsAfter).ToArray()),
        P("dat", deferred.Select(c => Ms(c.Deferred!.CreatedAt)).ToArray()),
        P("dnext", deferred.Select(c => Ms(c.NextAttemptAt)).ToArray()),
        P("ddeadline", deferred.Select(c => Ms(c.Deferred!.Deadline)).ToArray()),
        P("dcode", deferred.Select(c => c.Outcome?.StatusCode).ToArray()),
        P("derror", deferred.Select(ErrorAfter).ToArray()),
        .. FirstAttemptParameters(deferred, "d"),
    ];

    /// <summary>The first attempts the results hold (NULL where a result's is not one): @{prefix}started, ms, acode, aerror, excerpt.</summary>
    private static NpgsqlParameter[] FirstAttemptParameters(IReadOnlyList<Completion> completions, string prefix) =>
    [
        P($"{prefix}started", completions.Select(c => FoldsAttempt(c) ? Ms(c.StartedAt) : (long?)null).ToArray()),
        P($"{prefix}ms", completions.Select(c => FoldsAttempt(c) ? (int)c.Outcome!.Duration.TotalMilliseconds : (int?)null).ToArray()),
        P($"{prefix}acode", completions.Select(c => FoldsAttempt(c) ? c.Outcome!.StatusCode : null).ToArray()),
        P($"{prefix}aerror", completions.Select(c => FoldsAttempt(c) ? c.Outcome!.Error.ToWire() : null).ToArray()),
        P($"{prefix}excerpt", completions.Select(c => FoldsAttempt(c) ? c.Outcome!.ResponseExcerpt : null).ToArray()),
    ];

    /// <summary>A delivery's first attempt is held in its row (migration 0006), whichever statement writes the result.</summary>
    private static bool FoldsAttempt(Completion c) => c.Outcome is not null && c.AttemptNumber == 1;

    private static int AttemptsAfter(Completion c) => c.Outcome is null ? c.AttemptNumber - 1 : c.AttemptNumber;

    /// <summary>The error recorded on the delivery: the attempt's, or why none was made.</summary>
    private static string? ErrorAfter(Completion c) => c.Outcome?.Error.ToWire() ?? (c.Outcome is null ? "deadline_passed" : null);

    /// <summary>One group's deferred deliveries as column arrays: one row, one statement, whatever its size.</summary>
    private sealed class GrantRows(string owner, DateTimeOffset expiresAt)
    {
        private readonly List<string> _id = [], _event = [], _webhook = [], _account = [], _mode = [], _trigger = [];
        private readonly List<string?> _secret = [];
        private readonly List<long> _createdAt = [], _deadline = [];

        public string Owner { get; } = owner;

        public DateTimeOffset ExpiresAt { get; private set; } = expiresAt;

        /// <summary>Batches of one group may carry grants made a moment apart: the group's lease is the earliest.</summary>
        public void Extend(DateTimeOffset expiresAt) => ExpiresAt = expiresAt < ExpiresAt ? expiresAt : ExpiresAt;

        public DeferredRow Add(string id, NewEvent evt, Webhook webhook, string trigger)
        {
            _id.Add(id);
            _event.Add(evt.Id);
            _webhook.Add(webhook.Id);
            _account.Add(evt.AccountId);
            _mode.Add(evt.Mode);
            _trigger.Add(trigger);
            _secret.Add(webhook.SecretId);
            _createdAt.Add(Ms(evt.CreatedAt));
            _deadline.Add(Ms(evt.DeliveryDeadline));
            return new DeferredRow(_id[0], evt.Id, evt.AccountId, evt.Mode, webhook.SecretId, evt.CreatedAt, evt.DeliveryDeadline);
        }

        public NpgsqlBatchCommand Insert()
            => BatchCommand("""
                INSERT INTO delivery_grants (id, lease_owner, lease_expires_at, delivery_ids, event_ids, webhook_ids, account_ids, modes,
                                             secret_ids, triggers, created_ats, deadlines)
                VALUES (@id, @owner, @expires, @ids, @e, @w, @a, @m, @s, @trigger, @at, @deadline)
                """,
                P("id", _id[0]), P("owner", Owner), P("expires", Ms(ExpiresAt)), P("ids", _id.ToArray()), P("e", _event.ToArray()),
                P("w", _webhook.ToArray()), P("a", _account.ToArray()), P("m", _mode.ToArray()), P("s", _secret.ToArray()),
                P("trigger", _trigger.ToArray()), P("at", _createdAt.ToArray()), P("deadline", _deadline.ToArray()));
    }

    /// <summary>
    /// This process's groups and which of their deliveries have no recorded result yet, so that the results transaction
    /// that records the last of a group's results deletes the group. Only a hint: the delete itself checks that every
    /// entry has its row, and a group this misses is deleted when its lease runs out (<see cref="SweepExpiredGrantsSql"/>).
    /// </summary>
    private sealed class DeferredGroups
    {
        private readonly Lock _lock = new();
        private readonly Dictionary<string, (HashSet<string> Open, DateTimeOffset ExpiresAt)> _groups = new(StringComparer.Ordinal);

        public void Add(string group, IEnumerable<string> deliveryIds, DateTimeOffset expiresAt)
        {
            lock (_lock)
            {
                _groups[group] = (new HashSet<string>(deliveryIds, StringComparer.Ordinal), expiresAt);
            }
        }

        /// <summary>The groups whose last open deliveries are among <paramref name="settled"/>.</summary>
        public string[] SettledBy(IEnumerable<Completion> settled)
        {
            lock (_lock)
            {
                return [.. settled.GroupBy(c => c.Deferred!.Group, StringComparer.Ordinal)
                    .Where(g => _groups.TryGetValue(g.Key, out var group) && group.Open.IsSubsetOf(g.Select(c => c.DeliveryId)))
                    .Select(g => g.Key)];
            }
        }

        /// <summary>After the results committed: forgets what they settled, and groups whose lease ran out (the sweep's now).</summary>
        public void Settle(IEnumerable<Completion> settled, DateTimeOffset now)
        {
            lock (_lock)
            {
                foreach (var c in settled)
                {
                    if (_groups.TryGetValue(c.Deferred!.Group, out var group) && group.Open.Remove(c.DeliveryId) && group.Open.Count == 0)
                    {
                        _groups.Remove(c.Deferred.Group);
                    }
                }

                foreach (var expired in _groups.Where(g => g.Value.ExpiresAt <= now).Select(g => g.Key).ToList())
                {
                    _groups.Remove(expired);
                }
            }
        }
    }
}
