using System.Text.Json;
using Hookline.Core.Delivery;
using Hookline.Core.Notifications;
using Hookline.Core.Storage;
using Hookline.Core.Webhooks;
using Npgsql;

namespace Hookline.Storage.Postgres;

/// <remarks>
/// Changing a webhook takes its row <c>FOR UPDATE</c>, which waits for every ingestion or replay holding
/// <c>FOR KEY SHARE</c> on it. Without that, an ingestion that read the webhook as active could commit a
/// pending delivery just after the disable or delete that was meant to cancel it, and it would be sent.
/// </remarks>
internal sealed partial class PostgresStore
{
    private const string WebhookColumns = """
        SELECT id, account_id, mode, product, url, events, active, alert_email, secret_id,
               created_at, updated_at, disabled_at, disabled_reason, failing_since
        FROM webhooks
        """;

    public Task CreateWebhookAsync(Webhook webhook, WebhookSecret? secret, CancellationToken cancellationToken, AuditEntry? audit = null)
        => WriteAsync(async (connection, transaction) =>
        {
            await using (var command = Command(connection, transaction, """
                INSERT INTO webhooks (id, account_id, mode, product, url, events, active, alert_email, secret_id,
                                      created_at, updated_at, disabled_at, disabled_reason)
                VALUES (@id, @a, @m, @p, @url, @events, @active, @email, @secret, @at, @at, @disabledAt, @reason)
                """,
                P("id", webhook.Id), P("a", webhook.AccountId), P("m", webhook.Mode), P("p", webhook.Product),
                P("url", webhook.Url), P("events", JsonSerializer.Serialize(webhook.Events)), P("active", webhook.Active),
                P("email", webhook.AlertEmail), P("secret", secret?.Id), P("at", Ms(webhook.CreatedAt)),
                P("disabledAt", Ms(webhook.DisabledAt)), P("reason", webhook.DisabledReason)))
            {
                await command.ExecuteNonQueryAsync(cancellationToken);
            }

            if (secret is not null)
            {
                await InsertSecretAsync(connection, transaction, secret, cancellationToken);
            }

            await AppendAuditAsync(connection, transaction, webhook.AccountId, webhook.Mode, webhook.Id, audit, webhook.CreatedAt, cancellationToken);
            return true;
        }, cancellationToken);

    public Task<Webhook?> GetWebhookAsync(string accountId, string mode, string webhookId, CancellationToken cancellationToken)
        => ReadAsync(connection => FindWebhookAsync(connection, null, accountId, mode, webhookId, forUpdate: false, cancellationToken), cancellationToken);

    public Task<IReadOnlyList<Webhook>> ListWebhooksAsync(string accountId, string mode, CancellationToken cancellationToken)
        => ReadAsync<IReadOnlyList<Webhook>>(async connection =>
        {
            await using var command = Command(connection, null,
                $"{WebhookColumns} WHERE account_id = @a AND mode = @m AND deleted_at IS NULL ORDER BY created_at, id",
                P("a", accountId), P("m", mode));
            return await ReadWebhooksAsync(command, cancellationToken);
        }, cancellationToken);

    public Task<Webhook?> UpdateWebhookAsync(string accountId, string mode, string webhookId, WebhookChanges changes, DateTimeOffset at, CancellationToken cancellationToken, AuditEntry? audit = null)
        => WriteAsync(async (connection, transaction) =>
        {
            var current = await FindWebhookAsync(connection, transaction, accountId, mode, webhookId, forUpdate: true, cancellationToken);
            if (current is null)
            {
                return null;
            }

            if (changes.NewSecret is not null)
            {
                await InsertSecretAsync(connection, transaction, changes.NewSecret, cancellationToken);
            }

            var active = changes.Active ?? current.Active;
            var reEnabled = active && !current.Active;
            var disabled = !active && current.Active;
            var secretId = changes.RemoveSecret ? null : changes.NewSecret?.Id ?? current.SecretId;
            var alertEmail = changes.ClearAlertEmail ? null : changes.AlertEmail ?? current.AlertEmail;

            await using (var command = Command(connection, transaction, """
                UPDATE webhooks
                SET url = @url, events = @events, active = @active, alert_email = @email, secret_id = @secret,
                    updated_at = @at,
                    disabled_at = CASE WHEN @reEnabled THEN NULL WHEN @disabled THEN @at ELSE disabled_at END,
                    disabled_reason = CASE WHEN @reEnabled THEN NULL WHEN @disabled THEN 'disabled by merchant' ELSE disabled_reason END,
                    failing_since = CASE WHEN @reEnabled THEN NULL ELSE failing_since END
                WHERE id = @id
                """,
                P("url", changes.Url ?? current.Url), P("events", JsonSerializer.Serialize(changes.Events ?? current.Events)),
                P("active", active), P("email", alertEmail), P("secret", secretId), P("at", Ms(at)),
                P("reEnabled", reEnabled), P("disabled", disabled), P("id", webhookId)))
            {
                await command.ExecuteNonQueryAsync(cancellationToken);
            }

            if (disabled)
            {
                await CancelPendingAsync(connection, transaction, [webhookId], at, cancellationToken);
            }

            if (reEnabled)
            {
                var facts = new NotificationFacts(changes.Url ?? current.Url, mode, current.FailingSince, null, current.DisabledAt, 0, null, null, null);
                await NotifyAsync(connection, transaction, webhookId, NotificationKind.WebhookReenabled, at, facts, at, cancellationToken);
            }

            await AppendAuditAsync(connection, transaction, accountId, mode, webhookId, audit, at, cancellationToken);
            return await FindWebhookAsync(connection, transaction, accountId, mode, webhookId, forUpdate: false, cancellationToken);
        }, cancellationToken);

    public Task<bool> DeleteWebhookAsync(string accountId, string mode, string webhookId, DateTimeOffset at, CancellationToken cancellationToken, AuditEntry? audit = null)
        => WriteAsync(async (connection, transaction) =>
        {
            if (await FindWebhookAsync(connection, transaction, accountId, mode, webhookId, forUpdate: true, cancellationToken) is null)
            {
                return false;
            }

            await using (var command = Command(connection, transaction,
                "UPDATE webhooks SET deleted_at = @at, active = false, updated_at = @at WHERE id = @id",
                P("at", Ms(at)), P("id", webhookId)))
            {
                await command.ExecuteNonQueryAsync(cancellationToken);
            }

            await CancelPendingAsync(connection, transaction, [webhookId], at, cancellationToken);
            await AppendAuditAsync(connection, transaction, accountId, mode, webhookId, audit, at, cancellationToken);
            return true;
        }, cancellationToken);

    public Task<IReadOnlyList<AuditRecord>> ListAuditAsync(string accountId, string mode, string webhookId, CancellationToken cancellationToken)
        => ReadAsync<IReadOnlyList<AuditRecord>>(async connection =>
        {
            await using var command = Command(connection, null,
                "SELECT id, webhook_id, actor, action, changes, at FROM webhook_audit WHERE webhook_id = @w AND account_id = @a AND mode = @m ORDER BY id",
                P("w", webhookId), P("a", accountId), P("m", mode));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var records = new List<AuditRecord>();
            while (await reader.ReadAsync(cancellationToken))
            {
                records.Add(new AuditRecord(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), Time(reader.GetInt64(5))));
            }

            return records;
        }, cancellationToken);

    private static async Task AppendAuditAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string accountId, string mode, string webhookId, AuditEntry? audit, DateTimeOffset at, CancellationToken cancellationToken)
    {
        if (audit is null)
        {
            return;
        }

        await using var command = Command(connection, transaction,
            "INSERT INTO webhook_audit (account_id, mode, webhook_id, actor, action, changes, at) VALUES (@a, @m, @w, @actor, @action, @changes, @at)",
            P("a", accountId), P("m", mode), P("w", webhookId), P("actor", audit.Actor), P("action", audit.Action), P("changes", audit.Changes), P("at", Ms(at)));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task CancelPendingAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string[] webhookIds, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await MaterializeForWebhooksAsync(connection, transaction, webhookIds, cancellationToken);
        await using var command = Command(connection, transaction, $"""
            UPDATE deliveries
            SET status = '{DeliveryStatus.Cancelled}', completed_at = @at, next_attempt_at = NULL,
                lease_owner = NULL, lease_expires_at = NULL
            WHERE webhook_id = ANY(@w) AND status = '{DeliveryStatus.Pending}'
            """, P("at", Ms(at)), P("w", webhookIds));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task InsertSecretAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, WebhookSecret secret, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction,
            "INSERT INTO webhook_secrets (id, webhook_id, ciphertext, created_at) VALUES (@id, @w, @c, @at)",
            P("id", secret.Id), P("w", secret.WebhookId), P("c", secret.Ciphertext), P("at", Ms(secret.CreatedAt)));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<Webhook?> FindWebhookAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string accountId, string mode, string webhookId, bool forUpdate, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction,
            $"{WebhookColumns} WHERE id = @id AND account_id = @a AND mode = @m AND deleted_at IS NULL{(forUpdate ? " FOR UPDATE" : "")}",
            P("id", webhookId), P("a", accountId), P("m", mode));
        var found = await ReadWebhooksAsync(command, cancellationToken);
        return found.Count == 1 ? found[0] : null;
    }

    private static async Task<List<Webhook>> ReadWebhooksAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var webhooks = new List<Webhook>();
        while (await reader.ReadAsync(cancellationToken))
        {
            webhooks.Add(ReadWebhook(reader));
        }

        return webhooks;
    }

    /// <summary>The current row as a webhook, from the 14 columns of <see cref="WebhookColumns"/> in their order.</summary>
    private static Webhook ReadWebhook(NpgsqlDataReader reader)
        => new(
            reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
            JsonSerializer.Deserialize<string[]>(reader.GetString(5)) ?? [],
            reader.GetBoolean(6), StringOrNull(reader, 7), StringOrNull(reader, 8),
            Time(reader.GetInt64(9)), Time(reader.GetInt64(10)), TimeOrNull(reader, 11), StringOrNull(reader, 12),
            TimeOrNull(reader, 13));
}
