using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Hookline.Core;
using Hookline.Core.Delivery;
using Hookline.Core.Events;
using Hookline.Core.Observability;
using Hookline.Core.Webhooks;
using Microsoft.Data.Sqlite;

namespace Hookline.Storage.Sqlite;

internal sealed partial class SqliteStore
{
    public async Task<IngestResult> IngestAsync(IngestBatch batch, CancellationToken cancellationToken)
    {
        try
        {
            return await WriteAsync((_, transaction) => IngestAsync(Statements, transaction, batch, cancellationToken), cancellationToken, WriterWork.Ingest);
        }
        catch (UnknownAccountException unknown)
        {
            return new IngestResult(IngestStatus.UnknownAccount, [], [], unknown.AccountId);
        }
        catch (UnknownWebhookException)
        {
            return new IngestResult(IngestStatus.UnknownWebhook, [], []);
        }
    }

    private const string InsertEventSql = "INSERT INTO events (id, account_id, mode, name, product, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

    private const string InsertDeliverySql = """
        INSERT INTO deliveries (id, event_id, webhook_id, account_id, mode, secret_id, status, trigger, created_at,
                                next_attempt_at, completed_at, lease_owner, lease_expires_at, lease_token, deadline_at)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
        """;

    /// <summary>
    /// The webhooks an event goes to, each with its signing secret's ciphertext (column 14, for the deliveries handed to
    /// the dispatcher): one look-up per request and scope, where a request of one event made three (the account, its
    /// webhooks, the secret). A fifth less of the writer's ingestion time per one-event request (docs/benchmarks.md).
    /// </summary>
    private const string MatchWebhooksSql = $"""
        SELECT {WebhookColumnList}, (SELECT s.ciphertext FROM webhook_secrets s WHERE s.id = webhooks.secret_id)
        FROM webhooks
        WHERE account_id = $a AND mode = $m AND product = $p AND deleted_at IS NULL AND ($target IS NULL OR id = $target)
        """;

    private static async Task<IngestResult> IngestAsync(WriterStatements statements, SqliteTransaction transaction, IngestBatch batch, CancellationToken cancellationToken)
    {
        if (batch.IdempotencyKey is not null)
        {
            var find = statements.Command(transaction, "SELECT request_hash, response FROM idempotency_keys WHERE key = $k", ("$k", batch.IdempotencyKey));
            await using var reader = await find.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                var sameRequest = CryptographicOperations.FixedTimeEquals((byte[])reader.GetValue(0), batch.RequestHash);
                return sameRequest
                    ? new IngestResult(IngestStatus.Replayed, ParseIdempotentResponse(reader.GetString(1)), [])
                    : new IngestResult(IngestStatus.IdempotencyConflict, [], []);
            }
        }

        var webhooksByScope = new Dictionary<(string, string, string), List<Webhook>>();
        var leasedPerWebhook = new Dictionary<string, int>();
        var trigger = batch.TestTarget is null ? AttemptTrigger.Initial : AttemptTrigger.Test;
        var ingested = new List<IngestedEvent>(batch.Events.Count);
        var leased = new List<LeasedDelivery>();

        // The matched webhooks' secrets (MatchWebhooksSql reads them with the webhooks).
        var secrets = new Dictionary<string, byte[]?>(StringComparer.Ordinal);

        var insertEvent = statements.Prepared(InsertEventSql);
        var insertDelivery = statements.Prepared(InsertDeliverySql);

        foreach (var evt in batch.Events)
        {
            var scope = (evt.AccountId, evt.Mode, evt.Product);
            if (!webhooksByScope.TryGetValue(scope, out var webhooks))
            {
                var match = statements.Command(transaction, MatchWebhooksSql,
                    ("$a", evt.AccountId), ("$m", evt.Mode), ("$p", evt.Product), ("$target", batch.TestTarget));
                webhooks = await ReadWebhooksAsync(match, cancellationToken, secrets);

                // A webhook's account exists (a foreign key), so only a scope without one asks.
                if (webhooks.Count == 0 && !await AccountExistsAsync(statements, transaction, evt.AccountId, cancellationToken))
                {
                    // Roll back everything: a batch is all or nothing.
                    throw new UnknownAccountException(evt.AccountId);
                }

                if (batch.TestTarget is not null && webhooks.Count == 0)
                {
                    throw new UnknownWebhookException();
                }

                webhooksByScope[scope] = webhooks;
            }

            insertEvent.Execute(evt.Id, evt.AccountId, evt.Mode, evt.Name, evt.Product, evt.Body, Ms(evt.CreatedAt));

            int pending = 0, skipped = 0;
            foreach (var webhook in webhooks)
            {
                if (batch.TestTarget is null && !webhook.Subscribes(evt.Name))
                {
                    continue;
                }

                var deliveryId = Ids.New(Ids.Delivery);
                var lease = webhook.Active && CanLease(batch.Lease, webhook.Id, leased.Count, leasedPerWebhook) ? batch.Lease : null;
                insertDelivery.Execute(deliveryId, evt.Id, webhook.Id, evt.AccountId, evt.Mode, webhook.SecretId,
                    webhook.Active ? DeliveryStatus.Pending : DeliveryStatus.Skipped, trigger, Ms(evt.CreatedAt),
                    webhook.Active ? Ms(evt.CreatedAt) : (long?)null, webhook.Active ? (long?)null : Ms(evt.CreatedAt),
                    lease?.Owner, Ms(lease?.ExpiresAt), lease is null ? 0L : 1L, Ms(evt.DeliveryDeadline));

                if (!webhook.Active)
                {
                    skipped++;
                    continue;
                }

                pending++;
                if (lease is not null)
                {
                    leasedPerWebhook[webhook.Id] = leasedPerWebhook.GetValueOrDefault(webhook.Id) + 1;
                    var secret = webhook.SecretId is { } secretId ? secrets.GetValueOrDefault(secretId) : null;

                    leased.Add(new LeasedDelivery(deliveryId, evt.Id, webhook.Id, evt.AccountId, webhook.Url, evt.Body, evt.CreatedAt,
                        evt.DeliveryDeadline, secret, 0, trigger, 1, lease.ExpiresAt));
                }
            }

            ingested.Add(new IngestedEvent(evt.Id, evt.CreatedAt, pending + skipped, skipped));
        }

        if (batch.IdempotencyKey is not null)
        {
            statements.Prepared("INSERT INTO idempotency_keys (key, request_hash, response, created_at) VALUES (?1, ?2, ?3, ?4)")
                .Execute(batch.IdempotencyKey, batch.RequestHash, FormatIdempotentResponse(ingested),
                    Ms(batch.Events.Count > 0 ? batch.Events[0].CreatedAt : DateTimeOffset.UnixEpoch));
        }

        return new IngestResult(IngestStatus.Created, ingested, leased);
    }

    public Task<StoredEvent?> GetEventAsync(string accountId, string mode, string eventId, CancellationToken cancellationToken)
        => ReadAsync(async connection =>
        {
            await using var command = Command(connection, null,
                "SELECT id, account_id, mode, name, body, created_at FROM events WHERE id = $id AND account_id = $a AND mode = $m",
                ("$id", eventId), ("$a", accountId), ("$m", mode));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken)
                ? new StoredEvent(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), (byte[])reader.GetValue(4), Time(reader.GetInt64(5)))
                : null;
        }, cancellationToken);

    private static bool CanLease(LeaseGrant? grant, string webhookId, int leasedSoFar, Dictionary<string, int> perWebhook)
        => grant is not null
           && leasedSoFar < grant.MaxDeliveries
           && perWebhook.GetValueOrDefault(webhookId) < grant.ShareOf(webhookId);

    private static async Task<bool> AccountExistsAsync(WriterStatements statements, SqliteTransaction transaction, string accountId, CancellationToken cancellationToken)
        => await statements.Command(transaction, "SELECT 1 FROM accounts WHERE id = $a", ("$a", accountId)).ExecuteScalarAsync(cancellationToken) is not null;

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

    private sealed class UnknownWebhookException() : Exception("The test-fire webhook does not exist.");
    
    private sealed class UnknownAccountException(string accountId) : Exception($"Account {accountId} does not exist.")
    {
        public string AccountId { get; } = accountId;
    }
}
