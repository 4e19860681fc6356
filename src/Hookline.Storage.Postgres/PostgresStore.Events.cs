using System.Globalization;
using System.Text;
using Hookline.Core.Delivery;
using Hookline.Core.Events;
using Hookline.Core.Webhooks;
using Npgsql;

namespace Hookline.Storage.Postgres;

internal sealed partial class PostgresStore
{
    public Task<StoredEvent?> GetEventAsync(string accountId, string mode, string eventId, CancellationToken cancellationToken)
        => ReadAsync(async connection =>
        {
            await using var command = Command(connection, null,
                "SELECT id, account_id, mode, name, body, created_at FROM events WHERE id = @id AND account_id = @a AND mode = @m",
                P("id", eventId), P("a", accountId), P("m", mode));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? ReadEvent(reader) : null;
        }, cancellationToken);

    private static bool CanLease(LeaseGrant? grant, string webhookId, int leasedSoFar, Dictionary<string, int> perWebhook)
        => grant is not null
           && leasedSoFar < grant.MaxDeliveries
           && perWebhook.GetValueOrDefault(webhookId) < grant.ShareOf(webhookId);

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

    /// <summary>
    /// The new deliveries of one ingestion group that nobody leased, as column arrays, inserted in one statement. The
    /// ones leased to this process's worker are deferred instead (<see cref="GrantRows"/>).
    /// </summary>
    private sealed class DeliveryRows
    {
        private readonly List<string> _id = [], _event = [], _webhook = [], _account = [], _mode = [], _status = [], _trigger = [];
        private readonly List<string?> _secret = [];
        private readonly List<long> _createdAt = [], _deadline = [];
        private readonly List<long?> _next = [], _completedAt = [];

        public void Add(string id, NewEvent evt, Webhook webhook, string trigger)
        {
            _trigger.Add(trigger);
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
            _deadline.Add(Ms(evt.DeliveryDeadline));
        }

        public bool IsEmpty => _id.Count == 0;

        /// <summary>One statement for every row: unnest turns the column arrays back into rows.</summary>
        public NpgsqlBatchCommand Insert()
            => BatchCommand("""
                INSERT INTO deliveries (id, event_id, webhook_id, account_id, mode, secret_id, status, trigger, created_at,
                                        next_attempt_at, completed_at, deadline_at)
                SELECT id, e, w, a, m, s, status, trigger, at, next, done, deadline
                FROM unnest(@id::text[], @e::text[], @w::text[], @a::text[], @m::text[], @s::text[], @status::text[], @trigger::text[],
                            @at::bigint[], @next::bigint[], @done::bigint[], @deadline::bigint[])
                     AS r(id, e, w, a, m, s, status, trigger, at, next, done, deadline)
                """,
                P("id", _id.ToArray()), P("e", _event.ToArray()), P("w", _webhook.ToArray()), P("a", _account.ToArray()),
                P("m", _mode.ToArray()), P("s", _secret.ToArray()), P("status", _status.ToArray()), P("trigger", _trigger.ToArray()),
                P("at", _createdAt.ToArray()), P("next", _next.ToArray()), P("done", _completedAt.ToArray()), P("deadline", _deadline.ToArray()));
    }
}
