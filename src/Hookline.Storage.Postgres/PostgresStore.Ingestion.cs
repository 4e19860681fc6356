using System.Security.Cryptography;
using System.Threading.Channels;
using Hookline.Core;
using Hookline.Core.Delivery;
using Hookline.Core.Events;
using Hookline.Core.Webhooks;
using Npgsql;

namespace Hookline.Storage.Postgres;

/// <summary>
/// Ingestion with group commit. A transaction per request costs about seven round trips (begin, account,
/// webhooks, events, deliveries, secrets, commit) and a WAL flush; with a request per event, a hundred of
/// them in flight spent two cores switching between the app and as many backends, and single-event
/// ingestion topped out near 1.3k/s (docs/benchmarks.md). Instead requests queue, and each of
/// <see cref="GroupWriters"/> writers takes everything queued (up to <see cref="MaxGroupRequests"/> requests or
/// <see cref="MaxGroupEvents"/> events) into one transaction of two round trips whatever its size: the reads
/// (accounts, idempotency keys claimed, webhooks with their secrets), then the inserts with the COMMIT; a third
/// only when a key was used before. Each request keeps its own answer: an unknown account or a used idempotency key
/// is answered alone and writes nothing. Should the group's transaction fail, each request runs again in a
/// transaction of its own, so one bad request cannot fail the others. A lone request is a group of one: there is a single code path.
/// </summary>
internal sealed partial class PostgresStore
{
    /// <summary>Two, so that one group can wait for its WAL flush while the next does its reads.</summary>
    private const int GroupWriters = 2;

    private const int MaxGroupRequests = 64;
    private const int MaxGroupEvents = 2000;

    private readonly Channel<PendingIngest> _ingests = Channel.CreateUnbounded<PendingIngest>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim _groupSlots = new(GroupWriters, GroupWriters);
    private readonly Lock _ingestLock = new();
    private Task? _grouping;
    private long _ingestCommits;

    /// <summary>Ingestion transactions committed (each one WAL flush), for tests and diagnostics.</summary>
    internal long IngestCommits => Interlocked.Read(ref _ingestCommits);

    public Task<IngestResult> IngestAsync(IngestBatch batch, CancellationToken cancellationToken)
    {
        var pending = new PendingIngest(batch, cancellationToken);
        lock (_ingestLock)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, this);
            _grouping ??= Task.Run(GroupLoopAsync, CancellationToken.None);
            _ingests.Writer.TryWrite(pending);
        }

        return pending.Task;
    }

    /// <summary>Lets queued ingestions finish (each still gets its answer), then returns.</summary>
    private async Task StopIngestingAsync()
    {
        Task? grouping;
        lock (_ingestLock)
        {
            _ingests.Writer.TryComplete();
            grouping = _grouping;
        }

        if (grouping is not null)
        {
            await grouping;
        }
    }

    private async Task GroupLoopAsync()
    {
        var reader = _ingests.Reader;
        while (await reader.WaitToReadAsync())
        {
            await _groupSlots.WaitAsync();
            var group = TakeGroup(reader);
            if (group.Count == 0)
            {
                _groupSlots.Release();
                continue;
            }

            _ = Task.Run(async () =>
            {
                try
                {
                    await RunGroupAsync(group);
                }
                finally
                {
                    _groupSlots.Release();
                }
            });
        }

        // Every slot back means every group has finished (RunGroupAsync answers its requests and never throws).
        for (var i = 0; i < GroupWriters; i++)
        {
            await _groupSlots.WaitAsync();
        }
    }

    /// <summary>
    /// What is queued, in order, up to the group's bounds. A test fire goes alone (its webhook match differs);
    /// a request whose idempotency key is already in the group waits for the next one, so that it finds the
    /// first one's committed answer instead of racing it inside one transaction.
    /// </summary>
    private static List<PendingIngest> TakeGroup(ChannelReader<PendingIngest> reader)
    {
        var group = new List<PendingIngest>();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var events = 0;
        while (group.Count < MaxGroupRequests && reader.TryPeek(out var next))
        {
            var batch = next.Batch;
            var fits = group.Count == 0
                || (batch.TestTarget is null && group[0].Batch.TestTarget is null
                    && events + batch.Events.Count <= MaxGroupEvents
                    && (batch.IdempotencyKey is null || !keys.Contains(batch.IdempotencyKey)));
            if (!fits)
            {
                break;
            }

            reader.TryRead(out _);
            if (next.CancellationToken.IsCancellationRequested)
            {
                next.Fail(new OperationCanceledException(next.CancellationToken));
                continue;
            }

            group.Add(next);
            events += batch.Events.Count;
            if (batch.IdempotencyKey is not null)
            {
                keys.Add(batch.IdempotencyKey);
            }
        }

        return group;
    }

    private async Task RunGroupAsync(List<PendingIngest> group)
    {
        IngestResult[] results;
        try
        {
            results = await WriteAsync(
                (connection, transaction, effects) => IngestGroupAsync(connection, transaction, effects, [.. group.Select(p => p.Batch)], CancellationToken.None),
                CancellationToken.None);
        }
        catch (Exception) when (group.Count > 1)
        {
            // Nothing of the group was committed. Each request again, alone: the one that failed fails by itself.
            // (Should the commit have succeeded with its answer lost, a rerun fails on the events' primary key
            // instead of storing anything twice.)
            foreach (var pending in group)
            {
                await RunGroupAsync([pending]);
            }

            return;
        }
        catch (Exception e)
        {
            group[0].Fail(e);
            return;
        }

        // Only what follows a commit, and nothing that can throw: a committed group must never run again.
        Interlocked.Increment(ref _ingestCommits);
        foreach (var grant in results.SelectMany(r => r.Leased).Where(l => l.Deferred is not null).GroupBy(l => l.Deferred!.Group, StringComparer.Ordinal))
        {
            _deferred.Add(grant.Key, grant.Select(l => l.Id), grant.First().LeaseExpiresAt);
        }

        for (var i = 0; i < group.Count; i++)
        {
            group[i].Complete(results[i]);
        }
    }

    /// <summary>Commits the events of every batch that can be taken, with their deliveries; one answer per batch, in order.</summary>
    private static async Task<IngestResult[]> IngestGroupAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, CommitEffects effects, IReadOnlyList<IngestBatch> group, CancellationToken cancellationToken)
    {
        var results = new IngestResult?[group.Count];
        var target = group.Count == 1 ? group[0].TestTarget : null;
        var reads = await ReadForGroupAsync(connection, transaction, group, target, cancellationToken);
        var released = new List<string>();
        var used = new List<int>();
        for (var i = 0; i < group.Count; i++)
        {
            var key = group[i].IdempotencyKey;
            if (group[i].Events.FirstOrDefault(e => !reads.Accounts.Contains(e.AccountId)) is { } unknown)
            {
                // A batch is all or nothing: it writes nothing, and a key it claimed is free again.
                results[i] = new IngestResult(IngestStatus.UnknownAccount, [], [], unknown.AccountId);
                if (key is not null && reads.ClaimedKeys.Contains(key))
                {
                    released.Add(key);
                }
            }
            else if (key is not null && !reads.ClaimedKeys.Contains(key))
            {
                used.Add(i);
            }
        }

        await AnswerUsedKeysAsync(connection, transaction, group, used, results, cancellationToken);

        var events = new List<NewEvent>();
        var deliveries = new DeliveryRows();
        var grants = new Dictionary<string, GrantRows>(StringComparer.Ordinal);
        var remembered = new List<(string Key, string Response)>();
        var leasedByBatch = new List<(string DeliveryId, NewEvent Event, Webhook Webhook, GrantRows Grant, DeferredRow Row)>?[group.Count];
        for (var i = 0; i < group.Count; i++)
        {
            var batch = group[i];
            if (results[i] is not null)
            {
                continue;
            }

            if (batch.TestTarget is not null && batch.Events.Any(e => reads.WebhooksByScope.GetValueOrDefault((e.AccountId, e.Mode, e.Product)) is null))
            {
                results[i] = new IngestResult(IngestStatus.UnknownWebhook, [], []);
                continue;
            }

            var trigger = Trigger(batch);
            var leasedPerWebhook = new Dictionary<string, int>();
            var leased = leasedByBatch[i] = [];
            var ingested = new List<IngestedEvent>(batch.Events.Count);
            foreach (var evt in batch.Events)
            {
                int pending = 0, skipped = 0;
                foreach (var webhook in reads.WebhooksByScope.GetValueOrDefault((evt.AccountId, evt.Mode, evt.Product)) ?? [])
                {
                    if (batch.TestTarget is null && !webhook.Subscribes(evt.Name))
                    {
                        continue;
                    }

                    var deliveryId = Ids.New(Ids.Delivery);
                    var lease = webhook.Active && CanLease(batch.Lease, webhook.Id, leased.Count, leasedPerWebhook) ? batch.Lease : null;
                    if (lease is null)
                    {
                        deliveries.Add(deliveryId, evt, webhook, trigger);
                    }

                    if (!webhook.Active)
                    {
                        skipped++;
                        continue;
                    }

                    pending++;
                    if (lease is null)
                    {
                        // Other processes' workers are woken after the commit, for work that is then visible to them.
                        effects.QueuedWork = true;
                        continue;
                    }

                    // Leased to this process's worker: deferred, one grant row for the group (PostgresStore.Deferred.cs).
                    if (!grants.TryGetValue(lease.Owner, out var grant))
                    {
                        grants[lease.Owner] = grant = new GrantRows(lease.Owner, lease.ExpiresAt);
                    }

                    grant.Extend(lease.ExpiresAt);
                    leasedPerWebhook[webhook.Id] = leasedPerWebhook.GetValueOrDefault(webhook.Id) + 1;
                    leased.Add((deliveryId, evt, webhook, grant, grant.Add(deliveryId, evt, webhook, trigger)));
                }

                ingested.Add(new IngestedEvent(evt.Id, evt.CreatedAt, pending + skipped, skipped));
            }

            events.AddRange(batch.Events);
            if (batch.IdempotencyKey is not null)
            {
                remembered.Add((batch.IdempotencyKey, FormatIdempotentResponse(ingested)));
            }

            results[i] = new IngestResult(IngestStatus.Created, ingested, []);
        }

        await InsertAsync(connection, transaction, effects, events, deliveries, grants.Values, remembered, released, cancellationToken);

        for (var i = 0; i < group.Count; i++)
        {
            if (leasedByBatch[i] is { Count: > 0 } leased)
            {
                results[i] = results[i]! with
                {
                    Leased = [.. leased.Select(l => new LeasedDelivery(l.DeliveryId, l.Event.Id, l.Webhook.Id, l.Event.AccountId, l.Webhook.Url,
                        l.Event.Body, l.Event.CreatedAt, l.Event.DeliveryDeadline, reads.Secrets.GetValueOrDefault(l.Webhook.Id), 0, Trigger(group[i]), 1,
                        l.Grant.ExpiresAt, l.Row))],
                };
            }
        }

        return [.. results.Select(r => r!)];
    }

    /// <summary>A test fire's deliveries are attempted with the trigger <c>test</c>, everything else's with <c>initial</c>.</summary>
    private static string Trigger(IngestBatch batch) => batch.TestTarget is null ? AttemptTrigger.Initial : AttemptTrigger.Test;

    /// <summary>
    /// Everything the group needs to read, in one round trip (three statements in one batch): which of its accounts
    /// exist; its idempotency keys, claimed by inserting them; and every live webhook of its scopes (account, mode,
    /// product), oldest first, with the ciphertext of the secret in force.
    /// </summary>
    /// <remarks>
    /// Claiming inserts the key first: a concurrent ingestion with the same key (in another group or process)
    /// blocks on the primary key until this transaction ends, then finds the committed answer; if this one rolls
    /// back, the key is free again. The webhooks are read FOR KEY SHARE: a concurrent disable or delete (which takes
    /// the row FOR UPDATE) waits for this commit and then cancels what it inserted, or commits first and this read
    /// sees the webhook's new state.
    /// </remarks>
    private static async Task<GroupReads> ReadForGroupAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<IngestBatch> group, string? target, CancellationToken cancellationToken)
    {
        var reads = new GroupReads();
        var keyed = group.Where(b => b.IdempotencyKey is not null).ToList();
        var scopes = group.SelectMany(b => b.Events).Select(e => (e.AccountId, e.Mode, e.Product)).Distinct().ToList();

        await using var batch = new NpgsqlBatch(connection, transaction);
        batch.BatchCommands.Add(BatchCommand("SELECT id FROM accounts WHERE id = ANY(@ids)",
            P("ids", group.SelectMany(b => b.Events).Select(e => e.AccountId).Distinct().ToArray())));
        if (keyed.Count > 0)
        {
            batch.BatchCommands.Add(BatchCommand("""
                INSERT INTO idempotency_keys (key, request_hash, response, created_at)
                SELECT k, h, '', at FROM unnest(@k::text[], @h::bytea[], @at::bigint[]) AS r(k, h, at)
                ON CONFLICT (key) DO NOTHING
                RETURNING key
                """,
                P("k", keyed.Select(b => b.IdempotencyKey!).ToArray()),
                P("h", keyed.Select(b => b.RequestHash ?? []).ToArray()),
                P("at", keyed.Select(b => Ms(b.Events.Count > 0 ? b.Events[0].CreatedAt : DateTimeOffset.UnixEpoch)).ToArray())));
        }

        if (scopes.Count > 0)
        {
            batch.BatchCommands.Add(BatchCommand("""
                SELECT w.id, w.account_id, w.mode, w.product, w.url, w.events, w.active, w.alert_email, w.secret_id,
                       w.created_at, w.updated_at, w.disabled_at, w.disabled_reason, w.failing_since, s.ciphertext
                FROM webhooks w
                LEFT JOIN webhook_secrets s ON s.id = w.secret_id
                WHERE (w.account_id, w.mode, w.product) IN (SELECT a, m, p FROM unnest(@a::text[], @m::text[], @p::text[]) AS r(a, m, p))
                  AND w.deleted_at IS NULL AND (@target::text IS NULL OR w.id = @target)
                ORDER BY w.created_at, w.id
                FOR KEY SHARE OF w
                """,
                P("a", scopes.Select(s => s.AccountId).ToArray()), P("m", scopes.Select(s => s.Mode).ToArray()),
                P("p", scopes.Select(s => s.Product).ToArray()), P("target", target)));
        }

        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            reads.Accounts.Add(reader.GetString(0));
        }

        if (keyed.Count > 0)
        {
            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                reads.ClaimedKeys.Add(reader.GetString(0));
            }
        }

        if (scopes.Count > 0)
        {
            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var webhook = ReadWebhook(reader);
                var scope = (webhook.AccountId, webhook.Mode, webhook.Product);
                if (!reads.WebhooksByScope.TryGetValue(scope, out var webhooks))
                {
                    reads.WebhooksByScope[scope] = webhooks = [];
                }

                webhooks.Add(webhook);
                if (!reader.IsDBNull(14))
                {
                    reads.Secrets[webhook.Id] = reader.GetFieldValue<byte[]>(14);
                }
            }
        }

        return reads;
    }

    /// <summary>Batches whose key was already used get the earlier answer, or a conflict when their request differs.</summary>
    private static async Task AnswerUsedKeysAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<IngestBatch> group, List<int> used, IngestResult?[] results,
        CancellationToken cancellationToken)
    {
        if (used.Count == 0)
        {
            return;
        }

        var earlier = new Dictionary<string, (byte[] Hash, string Response)>(StringComparer.Ordinal);
        await using (var find = Command(connection, transaction, "SELECT key, request_hash, response FROM idempotency_keys WHERE key = ANY(@k)",
            P("k", used.Select(i => group[i].IdempotencyKey!).ToArray())))
        await using (var reader = await find.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                earlier[reader.GetString(0)] = (reader.GetFieldValue<byte[]>(1), reader.GetString(2));
            }
        }

        foreach (var i in used)
        {
            if (!earlier.TryGetValue(group[i].IdempotencyKey!, out var answer))
            {
                throw new InvalidOperationException("An idempotency key conflicted but cannot be read.");
            }

            results[i] = CryptographicOperations.FixedTimeEquals(answer.Hash, group[i].RequestHash ?? [])
                ? new IngestResult(IngestStatus.Replayed, ParseIdempotentResponse(answer.Response), [])
                : new IngestResult(IngestStatus.IdempotencyConflict, [], []);
        }
    }

    /// <summary>
    /// The group's events, deliveries and idempotent answers (and the release of keys it gave up), and the COMMIT, in one
    /// round trip: its answer means the group is durable. Should a statement fail, PostgreSQL skips the rest of the
    /// batch, COMMIT included, and the transaction is rolled back when it is disposed.
    /// </summary>
    private static async Task InsertAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, CommitEffects effects, List<NewEvent> events, DeliveryRows deliveries,
        IEnumerable<GrantRows> grants, List<(string Key, string Response)> remembered, List<string> released, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection, transaction);
        if (events.Count > 0)
        {
            batch.BatchCommands.Add(BatchCommand("""
                INSERT INTO events (id, account_id, mode, name, product, body, created_at)
                SELECT * FROM unnest(@id::text[], @a::text[], @m::text[], @n::text[], @p::text[], @b::bytea[], @at::bigint[])
                """,
                P("id", events.Select(e => e.Id).ToArray()), P("a", events.Select(e => e.AccountId).ToArray()),
                P("m", events.Select(e => e.Mode).ToArray()), P("n", events.Select(e => e.Name).ToArray()),
                P("p", events.Select(e => e.Product).ToArray()), P("b", events.Select(e => e.Body).ToArray()),
                P("at", events.Select(e => Ms(e.CreatedAt)).ToArray())));
        }

        if (!deliveries.IsEmpty)
        {
            batch.BatchCommands.Add(deliveries.Insert());
        }

        foreach (var grant in grants)
        {
            batch.BatchCommands.Add(grant.Insert());
        }

        if (remembered.Count > 0)
        {
            batch.BatchCommands.Add(BatchCommand("""
                UPDATE idempotency_keys k SET response = r.response
                FROM unnest(@k::text[], @r::text[]) AS r(key, response)
                WHERE k.key = r.key
                """,
                P("k", remembered.Select(r => r.Key).ToArray()), P("r", remembered.Select(r => r.Response).ToArray())));
        }

        if (released.Count > 0)
        {
            batch.BatchCommands.Add(BatchCommand("DELETE FROM idempotency_keys WHERE key = ANY(@k)", P("k", released.ToArray())));
        }

        if (batch.BatchCommands.Count > 0)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
            effects.Committed = true;
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private sealed class GroupReads
    {
        public HashSet<string> Accounts { get; } = new(StringComparer.Ordinal);

        public HashSet<string> ClaimedKeys { get; } = new(StringComparer.Ordinal);

        public Dictionary<(string, string, string), List<Webhook>> WebhooksByScope { get; } = [];

        public Dictionary<string, byte[]> Secrets { get; } = new(StringComparer.Ordinal);
    }

    private sealed class PendingIngest(IngestBatch batch, CancellationToken cancellationToken)
    {
        // Continuations run elsewhere: the caller's code must never run on (and hold up) a group writer.
        private readonly TaskCompletionSource<IngestResult> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public IngestBatch Batch { get; } = batch;

        public CancellationToken CancellationToken { get; } = cancellationToken;

        public Task<IngestResult> Task => _done.Task;

        public void Complete(IngestResult result) => _done.TrySetResult(result);

        public void Fail(Exception exception)
        {
            if (exception is OperationCanceledException cancelled)
            {
                _done.TrySetCanceled(cancelled.CancellationToken);
            }
            else
            {
                _done.TrySetException(exception);
            }
        }
    }
}
