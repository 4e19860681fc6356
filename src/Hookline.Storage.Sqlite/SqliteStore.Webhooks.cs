using System.Text.Json;
using Hookline.Core.Delivery;
using Hookline.Core.Notifications;
using Hookline.Core.Storage;
using Hookline.Core.Webhooks;
using Microsoft.Data.Sqlite;

namespace Hookline.Storage.Sqlite;

internal sealed partial class SqliteStore
{
    /// <summary>The columns <see cref="ReadWebhooksAsync"/> reads, in its order.</summary>
    private const string WebhookColumnList = """
        id, account_id, mode, product, url, events, active, alert_email, secret_id,
               created_at, updated_at, disabled_at, disabled_reason, failing_since
        """;

    private const string WebhookColumns = $"SELECT {WebhookColumnList} FROM webhooks";

    public Task CreateWebhookAsync(Webhook webhook, WebhookSecret? secret, CancellationToken cancellationToken, AuditEntry? audit = null)
        => WriteAsync(async (connection, transaction) =>
        {
            await using (var command = Command(connection, transaction, """
                INSERT INTO webhooks (id, account_id, mode, product, url, events, active, alert_email, secret_id,
                                      created_at, updated_at, disabled_at, disabled_reason)
                VALUES ($id, $a, $m, $p, $url, $events, $active, $email, $secret, $at, $at, $disabledAt, $reason)
                """,
                ("$id", webhook.Id), ("$a", webhook.AccountId), ("$m", webhook.Mode), ("$p", webhook.Product),
                ("$url", webhook.Url), ("$events", JsonSerializer.Serialize(webhook.Events)), ("$active", webhook.Active ? 1 : 0),
                ("$email", webhook.AlertEmail), ("$secret", secret?.Id), ("$at", Ms(webhook.CreatedAt)),
                ("$disabledAt", Ms(webhook.DisabledAt)), ("$reason", webhook.DisabledReason)))
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
        => ReadAsync(connection => FindWebhookAsync(connection, null, accountId, mode, webhookId, cancellationToken), cancellationToken);

    public Task<IReadOnlyList<Webhook>> ListWebhooksAsync(string accountId, string mode, CancellationToken cancellationToken)
        => ReadAsync<IReadOnlyList<Webhook>>(async connection =>
        {
            await using var command = Command(connection, null,
                $"{WebhookColumns} WHERE account_id = $a AND mode = $m AND deleted_at IS NULL ORDER BY created_at, id",
                ("$a", accountId), ("$m", mode));
            return await ReadWebhooksAsync(command, cancellationToken);
        }, cancellationToken);

    public Task<Webhook?> UpdateWebhookAsync(string accountId, string mode, string webhookId, WebhookChanges changes, DateTimeOffset at, CancellationToken cancellationToken, AuditEntry? audit = null)
        => WriteAsync(async (connection, transaction) =>
        {
            var current = await FindWebhookAsync(connection, transaction, accountId, mode, webhookId, cancellationToken);
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
                SET url = $url, events = $events, active = $active, alert_email = $email, secret_id = $secret,
                    updated_at = $at,
                    disabled_at = CASE WHEN $reEnabled THEN NULL WHEN $disabled THEN $at ELSE disabled_at END,
                    disabled_reason = CASE WHEN $reEnabled THEN NULL WHEN $disabled THEN 'disabled by merchant' ELSE disabled_reason END,
                    failing_since = CASE WHEN $reEnabled THEN NULL ELSE failing_since END
                WHERE id = $id
                """,
                ("$url", changes.Url ?? current.Url), ("$events", JsonSerializer.Serialize(changes.Events ?? current.Events)),
                ("$active", active ? 1 : 0), ("$email", alertEmail), ("$secret", secretId), ("$at", Ms(at)),
                ("$reEnabled", reEnabled ? 1 : 0), ("$disabled", disabled ? 1 : 0), ("$id", webhookId)))
            {
                await command.ExecuteNonQueryAsync(cancellationToken);
            }

            if (disabled)
            {
                await CancelPendingAsync(connection, transaction, webhookId, at, cancellationToken);
            }

            if (reEnabled)
            {
                var facts = new NotificationFacts(changes.Url ?? current.Url, mode, current.FailingSince, null, current.DisabledAt, 0, null, null, null);
                await NotifyAsync(connection, transaction, webhookId, NotificationKind.WebhookReenabled, at, facts, at, cancellationToken);
            }

            await AppendAuditAsync(connection, transaction, accountId, mode, webhookId, audit, at, cancellationToken);
            return await FindWebhookAsync(connection, transaction, accountId, mode, webhookId, cancellationToken);
        }, cancellationToken);

    public Task<bool> DeleteWebhookAsync(string accountId, string mode, string webhookId, DateTimeOffset at, CancellationToken cancellationToken, AuditEntry? audit = null)
        => WriteAsync(async (connection, transaction) =>
        {
            await using (var command = Command(connection, transaction,
                "UPDATE webhooks SET deleted_at = $at, active = 0, updated_at = $at WHERE id = $id AND account_id = $a AND mode = $m AND deleted_at IS NULL",
                ("$at", Ms(at)), ("$id", webhookId), ("$a", accountId), ("$m", mode)))
            {
                if (await command.ExecuteNonQueryAsync(cancellationToken) == 0)
                {
                    return false;
                }
            }

            await CancelPendingAsync(connection, transaction, webhookId, at, cancellationToken);
            await AppendAuditAsync(connection, transaction, accountId, mode, webhookId, audit, at, cancellationToken);
            return true;
        }, cancellationToken);

    public Task<IReadOnlyList<AuditRecord>> ListAuditAsync(string accountId, string mode, string webhookId, CancellationToken cancellationToken)
        => ReadAsync<IReadOnlyList<AuditRecord>>(async connection =>
        {
            await using var command = Command(connection, null,
                "SELECT id, webhook_id, actor, action, changes, at FROM webhook_audit WHERE webhook_id = $w AND account_id = $a AND mode = $m ORDER BY id",
                ("$w", webhookId), ("$a", accountId), ("$m", mode));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var records = new List<AuditRecord>();
            while (await reader.ReadAsync(cancellationToken))
            {
                records.Add(new AuditRecord(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), Time(reader.GetInt64(5))));
            }

            return records;
        }, cancellationToken);

    private static async Task AppendAuditAsync(SqliteConnection connection, SqliteTransaction transaction, string accountId, string mode, string webhookId, AuditEntry? audit, DateTimeOffset at, CancellationToken cancellationToken)
    {
        if (audit is null)
        {
            return;
        }

        await using var command = Command(connection, transaction,
            "INSERT INTO webhook_audit (account_id, mode, webhook_id, actor, action, changes, at) VALUES ($a, $m, $w, $actor, $action, $changes, $at)",
            ("$a", accountId), ("$m", mode), ("$w", webhookId), ("$actor", audit.Actor), ("$action", audit.Action), ("$changes", audit.Changes), ("$at", Ms(at)));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task CancelPendingAsync(SqliteConnection connection, SqliteTransaction transaction, string webhookId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, $"""
            UPDATE deliveries
            SET status = '{DeliveryStatus.Cancelled}', completed_at = $at, next_attempt_at = NULL,
                lease_owner = NULL, lease_expires_at = NULL
            WHERE webhook_id = $w AND status = '{DeliveryStatus.Pending}'
            """, ("$at", Ms(at)), ("$w", webhookId));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task InsertSecretAsync(SqliteConnection connection, SqliteTransaction transaction, WebhookSecret secret, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction,
            "INSERT INTO webhook_secrets (id, webhook_id, ciphertext, created_at) VALUES ($id, $w, $c, $at)",
            ("$id", secret.Id), ("$w", secret.WebhookId), ("$c", secret.Ciphertext), ("$at", Ms(secret.CreatedAt)));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<Webhook?> FindWebhookAsync(SqliteConnection connection, SqliteTransaction? transaction, string accountId, string mode, string webhookId, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction,
            $"{WebhookColumns} WHERE id = $id AND account_id = $a AND mode = $m AND deleted_at IS NULL",
            ("$id", webhookId), ("$a", accountId), ("$m", mode));
        var found = await ReadWebhooksAsync(command, cancellationToken);
        return found.Count == 1 ? found[0] : null;
    }

    /// <summary>Webhooks from <see cref="WebhookColumns"/>; with <paramref name="secrets"/>, a 15th column of secret ciphertexts goes there.</summary>
    private static async Task<List<Webhook>> ReadWebhooksAsync(SqliteCommand command, CancellationToken cancellationToken, Dictionary<string, byte[]?>? secrets = null)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var webhooks = new List<Webhook>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var webhook = new Webhook(
                reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                JsonSerializer.Deserialize<string[]>(reader.GetString(5)) ?? [],
                reader.GetInt64(6) == 1, StringOrNull(reader, 7), StringOrNull(reader, 8),
                Time(reader.GetInt64(9)), Time(reader.GetInt64(10)), TimeOrNull(reader, 11), StringOrNull(reader, 12),
                TimeOrNull(reader, 13));
            webhooks.Add(webhook);
            if (secrets is not null && webhook.SecretId is { } secretId)
            {
                secrets[secretId] = reader.IsDBNull(14) ? null : (byte[])reader.GetValue(14);
            }
        }

        return webhooks;
    }
}
