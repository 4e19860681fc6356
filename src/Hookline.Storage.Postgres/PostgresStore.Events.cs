using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Hookline.Core;
using Hookline.Core.Delivery;
using Hookline.Core.Events;
using Hookline.Core.Webhooks;
using Npgsql;

namespace Hookline.Storage.Postgres;

internal sealed partial class PostgresStore
{
    public async Task<IngestResult> IngestAsync(IngestBatch batch, CancellationToken cancellationToken)
    {
        try
        {
            return await WriteAsync((connection, transaction, effects) => IngestAsync(connection, transaction, effects, batch, cancellationToken), cancellationToken);
        }
        catch (RejectedBatchException rejected)
        {
            return rejected.Result;
        }
    }

    public Task<StoredEvent?> GetEventAsync(string accountId, string mode, string eventId, CancellationToken cancellationToken)
        => ReadAsync(async connection =>
        {
            await using var command = Command(connection, null,
                "SELECT id, account_id, mode, name, body, created_at FROM events WHERE id = @id AND account_id = @a AND mode = @m",
                P("id", eventId), P("a", accountId), P("m", mode));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? ReadEvent(reader) : null;
        }, cancellationToken);

    private static async Task<IngestResult> IngestAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, CommitEffects effects, IngestBatch batch, CancellationToken cancellationToken)
    {
        if (batch.IdempotencyKey is not null && await ClaimIdempotencyKeyAsync(connection, transaction, batch, cancellationToken) is { } earlier)
        {
            return earlier;
        }

        await RequireAccountsAsync(connection, transaction, batch.Events, cancellationToken);

        var webhooksByScope = new Dictionary<(string, string, string), List<Webhook>>();
        var leasedPerWebhook = new Dictionary<string, int>();
        var trigger = batch.TestTarget is null ? AttemptTrigger.Initial : AttemptTrigger.Test;
        var ingested = new List<IngestedEvent>(batch.Events.Count);
        var deliveries = new DeliveryRows();
        var leased = new List<(string DeliveryId, NewEvent Event, Webhook Webhook)>();
        var unleasedPending = false;

        foreach (var evt in batch.Events)
        {
            var scope = (evt.AccountId, evt.Mode, evt.Product);
            if (!webhooksByScope.TryGetValue(scope, out var webhooks))
            {
                webhooks = await MatchWebhooksAsync(connection, transaction, evt, batch.TestTarget, cancellationToken);
                if (batch.TestTarget is not null && webhooks.Count == 0)
                {
                    throw new RejectedBatchException(new IngestResult(IngestStatus.UnknownWebhook, [], []));
                }

                webhooksByScope[scope] = webhooks;
            }

            int pending = 0, skipped = 0;
            foreach (var webhook in webhooks)
            {
                if (batch.TestTarget is null && !webhook.Subscribes(evt.Name))
                {
                    continue;
                }

                var deliveryId = Ids.New(Ids.Delivery);
                var lease = webhook.Active && CanLease(batch.Lease, webhook.Id, leased.Count, leasedPerWebhook) ? batch.Lease : null;
                deliveries.Add(deliveryId, evt, webhook, trigger, lease);
                if (!webhook.Active)
                {
                    skipped++;
                    continue;
                }

                pending++;
                if (lease is null)
                {
                    unleasedPending = true;
                    continue;
                }

                leasedPerWebhook[webhook.Id] = leasedPerWebhook.GetValueOrDefault(webhook.Id) + 1;
                leased.Add((deliveryId, evt, webhook));
            }

            ingested.Add(new IngestedEvent(evt.Id, evt.CreatedAt, pending + skipped, skipped));
        }

        await InsertEventsAsync(connection, transaction, batch.Events, cancellationToken);
        await deliveries.InsertAsync(connection, transaction, cancellationToken);
        // Other processes' workers are woken after the commit, for work that is then visible to them.
        effects.QueuedWork = unleasedPending;

        if (batch.IdempotencyKey is not null)
        {
            await using var remember = Command(connection, transaction,
                "UPDATE idempotency_keys SET response = @r WHERE key = @k",
                P("r", FormatIdempotentResponse(ingested)), P("k", batch.IdempotencyKey));
            await remember.ExecuteNonQueryAsync(cancellationToken);
        }

        var secrets = await SecretsAsync(connection, transaction, [.. leased.Select(l => l.Webhook.SecretId).OfType<string>().Distinct()], cancellationToken);
        var handedOver = leased.Select(l => new LeasedDelivery(l.DeliveryId, l.Event.Id, l.Webhook.Id, l.Event.AccountId, l.Webhook.Url, l.Event.Body,
            l.Event.CreatedAt, l.Event.DeliveryDeadline, l.Webhook.SecretId is null ? null : secrets[l.Webhook.SecretId], 0, trigger, 1, batch.Lease!.ExpiresAt));
        return new IngestResult(IngestStatus.Created, ingested, [.. handedOver]);
    }

    /// <summary>
    /// Inserts the key first: a concurrent ingestion with the same key (in this process or another) blocks on
    /// the primary key until this transaction ends, then finds the committed answer; if this one rolls back,
    /// the key is free again. Returns the earlier answer when the key was already used.
    /// </summary>
    private static async Task<IngestResult?> ClaimIdempotencyKeyAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IngestBatch batch, CancellationToken cancellationToken)
    {
        var hash = batch.RequestHash ?? [];
        await using (var claim = Command(connection, transaction, """
            INSERT INTO idempotency_keys (key, request_hash, response, created_at) VALUES (@k, @h, '', @at)
            ON CONFLICT (key) DO NOTHING
            """,
            P("k", batch.IdempotencyKey!), P("h", hash), P("at", Ms(batch.Events.Count > 0 ? batch.Events[0].CreatedAt : DateTimeOffset.UnixEpoch))))
        {
            if (await claim.ExecuteNonQueryAsync(cancellationToken) == 1)
            {
                return null;
            }
        }

        await using var find = Command(connection, transaction, "SELECT request_hash, response FROM idempotency_keys WHERE key = @k", P("k", batch.IdempotencyKey!));
        await using var reader = await find.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            throw new InvalidOperationException("An idempotency key conflicted but cannot be read.");
        }

        return CryptographicOperations.FixedTimeEquals(reader.GetFieldValue<byte[]>(0), hash)
            ? new IngestResult(IngestStatus.Replayed, ParseIdempotentResponse(reader.GetString(1)), [])
            : new IngestResult(IngestStatus.IdempotencyConflict, [], []);
    }

    private static async Task RequireAccountsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<NewEvent> events, CancellationToken cancellationToken)
    {
        var known = new HashSet<string>(StringComparer.Ordinal);
        await using (var command = Command(connection, transaction, "SELECT id FROM accounts WHERE id = ANY(@ids)", P("ids", events.Select(e => e.AccountId).Distinct().ToArray())))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                known.Add(reader.GetString(0));
            }
        }

        if (events.FirstOrDefault(e => !known.Contains(e.AccountId)) is { } unknown)
        {
            // A batch is all or nothing: the whole transaction rolls back.
            throw new RejectedBatchException(new IngestResult(IngestStatus.UnknownAccount, [], [], unknown.AccountId));
        }
    }

    /// <summary>
    /// FOR KEY SHARE: a concurrent disable or delete (which takes the row FOR UPDATE) waits for this commit and
    /// then cancels what it inserted, or commits first and this read sees the webhook's new state.
    /// </summary>
    private static async Task<List<Webhook>> MatchWebhooksAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, NewEvent evt, string? target, CancellationToken cancellationToken)
    {
        await using var match = Command(connection, transaction, $"""
            {WebhookColumns}
            WHERE account_id = @a AND mode = @m AND product = @p AND deleted_at IS NULL AND (@target::text IS NULL OR id = @target)
            ORDER BY created_at, id
            FOR KEY SHARE
            """,
            P("a", evt.AccountId), P("m", evt.Mode), P("p", evt.Product), P("target", target));
        return await ReadWebhooksAsync(match, cancellationToken);
    }

    private static async Task InsertEventsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<NewEvent> events, CancellationToken cancellationToken)
    {
        // One statement for the whole batch: unnest turns the column arrays back into rows.
        await using var insert = Command(connection, transaction, """
            INSERT INTO events (id, account_id, mode, name, product, body, created_at)
            SELECT * FROM unnest(@id::text[], @a::text[], @m::text[], @n::text[], @p::text[], @b::bytea[], @at::bigint[])
            """,
            P("id", events.Select(e => e.Id).ToArray()), P("a", events.Select(e => e.AccountId).ToArray()),
            P("m", events.Select(e => e.Mode).ToArray()), P("n", events.Select(e => e.Name).ToArray()),
            P("p", events.Select(e => e.Product).ToArray()), P("b", events.Select(e => e.Body).ToArray()),
            P("at", events.Select(e => Ms(e.CreatedAt)).ToArray()));
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<Dictionary<string, byte[]>> SecretsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string[] secretIds, CancellationToken cancellationToken)
    {
        var secrets = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        if (secretIds.Length == 0)
        {
            return secrets;
        }

        await using var command = Command(connection, transaction, "SELECT id, ciphertext FROM webhook_secrets WHERE id = ANY(@ids)", P("ids", secretIds));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            secrets[reader.GetString(0)] = reader.GetFieldValue<byte[]>(1);
        }

        return secrets;
    }

    private static bool CanLease(LeaseGrant? grant, string webhookId, int leasedSoFar, Dictionary<string, int> perWebhook)
        => grant is not null
           && leasedSoFar < grant.MaxDeliveries
           && perWebhook.GetValueOrDefault(webhookId) < grant.MaxPerWebhook
           && !grant.ExcludedWebhooks.Contains(webhookId);

    private static StoredEvent ReadEvent(NpgsqlDataReader reader)
        => new(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetFieldValue<byte[]>(4), Time(reader.GetInt64(5)));

    private static string FormatIdempotentResponse(IEnumerable<IngestedEvent> events)
    {
        var text = new StringBuilder();
        foreach (var e in events)
        {
            text.Append(CultureInfo.InvariantCulture, $"{e.Id} {Ms(e.CreatedAt)} {e.Deliveries} {e.Skipped}\n");
        }

        return text.ToString();
    }

    private static List<IngestedEvent> ParseIdempotentResponse(string text)
        => [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line =>
        {
            var cells = line.Split(' ');
            return new IngestedEvent(cells[0], Time(long.Parse(cells[1], CultureInfo.InvariantCulture)),
                int.Parse(cells[2], CultureInfo.InvariantCulture), int.Parse(cells[3], CultureInfo.InvariantCulture));
        })];

    /// <summary>Rolls the ingestion transaction back and answers with <see cref="Result"/> instead.</summary>
    private sealed class RejectedBatchException(IngestResult result) : Exception($"Batch rejected: {result.Status}.")
    {
        public IngestResult Result { get; } = result;
    }

    /// <summary>The new deliveries of one ingestion as column arrays, inserted in one statement.</summary>
    private sealed class DeliveryRows
    {
        private readonly List<string> _id = [], _event = [], _webhook = [], _account = [], _mode = [], _status = [];
        private readonly List<string?> _secret = [], _owner = [];
        private readonly List<long> _createdAt = [], _token = [], _deadline = [];
        private readonly List<long?> _next = [], _completedAt = [], _expires = [];
        private string _trigger = AttemptTrigger.Initial;

        public void Add(string id, NewEvent evt, Webhook webhook, string trigger, LeaseGrant? lease)
        {
            _trigger = trigger;
            _id.Add(id);
            _event.Add(evt.Id);
            _webhook.Add(webhook.Id);
            _account.Add(evt.AccountId);
            _mode.Add(evt.Mode);
            _secret.Add(webhook.SecretId);
            _status.Add(webhook.Active ? DeliveryStatus.Pending : DeliveryStatus.Skipped);
            _createdAt.Add(Ms(evt.CreatedAt));
            _next.Add(webhook.Active ? Ms(evt.CreatedAt) : null);
            _completedAt.Add(webhook.Active ? null : Ms(evt.CreatedAt));
            _owner.Add(lease?.Owner);
            _expires.Add(Ms(lease?.ExpiresAt));
            _token.Add(lease is null ? 0L : 1L);
            _deadline.Add(Ms(evt.DeliveryDeadline));
        }

        public async Task InsertAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
        {
            if (_id.Count == 0)
            {
                return;
            }

            await using var insert = Command(connection, transaction, """
                INSERT INTO deliveries (id, event_id, webhook_id, account_id, mode, secret_id, status, trigger, created_at,
                                        next_attempt_at, completed_at, lease_owner, lease_expires_at, lease_token, deadline_at)
                SELECT id, e, w, a, m, s, status, @trigger, at, next, done, owner, expires, token, deadline
                FROM unnest(@id::text[], @e::text[], @w::text[], @a::text[], @m::text[], @s::text[], @status::text[], @at::bigint[],
                            @next::bigint[], @done::bigint[], @owner::text[], @expires::bigint[], @token::bigint[], @deadline::bigint[])
                     AS r(id, e, w, a, m, s, status, at, next, done, owner, expires, token, deadline)
                """,
                P("trigger", _trigger), P("id", _id.ToArray()), P("e", _event.ToArray()), P("w", _webhook.ToArray()), P("a", _account.ToArray()),
                P("m", _mode.ToArray()), P("s", _secret.ToArray()), P("status", _status.ToArray()), P("at", _createdAt.ToArray()),
                P("next", _next.ToArray()), P("done", _completedAt.ToArray()), P("owner", _owner.ToArray()), P("expires", _expires.ToArray()),
                P("token", _token.ToArray()), P("deadline", _deadline.ToArray()));
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}
