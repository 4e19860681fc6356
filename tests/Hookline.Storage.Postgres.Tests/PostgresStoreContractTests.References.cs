using Hookline.Core.Events;
using Npgsql;

namespace Hookline.Storage.Postgres.Tests;

/// <summary>
/// References checked by statement (migration 0007): a delivery's event and webhook and an event's account must exist,
/// as with the foreign keys they replace, and those parents can never go away, which is what lets the check lock nothing.
/// </summary>
public sealed partial class PostgresStoreContractTests
{
    private const string InsertDeliverySql = """
        INSERT INTO deliveries (id, event_id, webhook_id, account_id, mode, status, trigger, created_at, deadline_at)
        SELECT d, e, w, @a, 'test', 'pending', 'initial', 0, 1 FROM unnest(@d::text[], @e::text[], @w::text[]) AS r(d, e, w)
        """;

    [Fact]
    public async Task A_delivery_naming_an_event_or_webhook_that_does_not_exist_is_refused_with_the_whole_statement()
    {
        var account = await AccountAsync();
        var webhook = await WebhookAsync(account);
        var ingested = await IngestAsync(Event(account));
        await using var connection = await OpenDirectAsync();

        await InsertDeliveriesAsync(connection, account, ("dlv_ok", ingested.Id, webhook.Id));
        Assert.Equal(1L, await ScalarAsync<long>(connection, "SELECT count(*) FROM deliveries WHERE id = 'dlv_ok'"));

        foreach (var (orphan, missing) in new[] { (("dlv_a2", "evt_gone", webhook.Id), "event evt_gone"), (("dlv_a2", ingested.Id, "wh_gone"), "webhook wh_gone") })
        {
            var refused = await Assert.ThrowsAsync<PostgresException>(() => InsertDeliveriesAsync(connection, account, ("dlv_a1", ingested.Id, webhook.Id), orphan));
            Assert.Equal(PostgresErrorCodes.ForeignKeyViolation, refused.SqlState);
            Assert.Contains($"delivery dlv_a2 names {missing}, which does not exist", refused.MessageText, StringComparison.Ordinal);
            Assert.Equal(0L, await ScalarAsync<long>(connection, "SELECT count(*) FROM deliveries WHERE id IN ('dlv_a1', 'dlv_a2')"));
        }

        var moved = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(connection, "UPDATE deliveries SET event_id = 'evt_other' WHERE id = 'dlv_ok'"));
        Assert.Equal(PostgresErrorCodes.ForeignKeyViolation, moved.SqlState);
        await ExecuteAsync(connection, "UPDATE deliveries SET status = 'cancelled', event_id = event_id WHERE id = 'dlv_ok'");
        Assert.Equal(ingested.Id, await ScalarAsync<string>(connection, "SELECT event_id FROM deliveries WHERE id = 'dlv_ok'"));
    }

    [Fact]
    public async Task Parents_shared_by_many_rows_are_looked_up_once_and_a_missing_one_is_still_found_and_named()
    {
        var account = await AccountAsync();
        var webhook = await WebhookAsync(account);
        var ingested = await IngestAsync(Event(account));
        await using var connection = await OpenDirectAsync();
        var shared = Enumerable.Range(0, 200).Select(i => ($"dlv_s{i:D3}", ingested.Id, webhook.Id)).ToList();

        // Two rows name the same missing webhook, among two hundred that share a good one: the lowest id is named.
        var refused = await Assert.ThrowsAsync<PostgresException>(() => InsertDeliveriesAsync(connection, account,
            [.. shared, ("dlv_z2", ingested.Id, "wh_gone"), ("dlv_z1", ingested.Id, "wh_gone")]));
        Assert.Equal(PostgresErrorCodes.ForeignKeyViolation, refused.SqlState);
        Assert.Contains("delivery dlv_z1 names webhook wh_gone, which does not exist", refused.MessageText, StringComparison.Ordinal);

        // A missing event is reported before a missing webhook, whichever row comes first.
        refused = await Assert.ThrowsAsync<PostgresException>(() => InsertDeliveriesAsync(connection, account,
            [("dlv_y1", ingested.Id, "wh_gone"), .. shared, ("dlv_y2", "evt_gone", webhook.Id)]));
        Assert.Contains("delivery dlv_y2 names event evt_gone, which does not exist", refused.MessageText, StringComparison.Ordinal);
        const string Written = "SELECT count(*) FROM deliveries WHERE left(id, 5) IN ('dlv_s', 'dlv_y', 'dlv_z')";
        Assert.Equal(0L, await ScalarAsync<long>(connection, Written));

        await InsertDeliveriesAsync(connection, account, [.. shared]);
        Assert.Equal(200L, await ScalarAsync<long>(connection, Written));
    }

    [Fact]
    public async Task An_event_naming_an_account_that_does_not_exist_is_refused_with_the_whole_statement()
    {
        var account = await AccountAsync();
        await using var connection = await OpenDirectAsync();
        const string insert = """
            INSERT INTO events (id, account_id, mode, name, product, body, created_at)
            SELECT e, a, 'test', 'payment.captured', 'payments', '\x7b7d'::bytea, 0 FROM unnest(@e::text[], @a::text[]) AS r(e, a)
            """;

        var refused = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(connection, insert,
            new NpgsqlParameter("e", new[] { "evt_1", "evt_2" }), new NpgsqlParameter("a", new[] { account, "acc_gone" })));

        Assert.Equal(PostgresErrorCodes.ForeignKeyViolation, refused.SqlState);
        Assert.Contains("event evt_2 names account acc_gone, which does not exist", refused.MessageText, StringComparison.Ordinal);
        Assert.Equal(0L, await ScalarAsync<long>(connection, "SELECT count(*) FROM events"));
        await ExecuteAsync(connection, insert, new NpgsqlParameter("e", new[] { "evt_1" }), new NpgsqlParameter("a", new[] { account }));
        Assert.Equal(1L, await ScalarAsync<long>(connection, "SELECT count(*) FROM events"));
    }

    [Fact]
    public async Task Events_webhooks_and_accounts_are_never_deleted_truncated_or_renumbered()
    {
        var account = await AccountAsync();
        var webhook = await WebhookAsync(account);
        var ingested = await IngestAsync(Event(account));
        await using var connection = await OpenDirectAsync();

        foreach (var (table, id) in new[] { ("events", ingested.Id), ("webhooks", webhook.Id), ("accounts", account) })
        {
            foreach (var sql in new[] { $"DELETE FROM {table} WHERE id = '{id}'", $"TRUNCATE {table} CASCADE" })
            {
                var refused = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(connection, sql));
                Assert.Equal(PostgresErrorCodes.RestrictViolation, refused.SqlState);
                Assert.Contains($"{table} rows are never deleted", refused.MessageText, StringComparison.Ordinal);
            }

            var renumbered = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(connection, $"UPDATE {table} SET id = id || '_2' WHERE id = '{id}'"));
            Assert.Equal(PostgresErrorCodes.ForeignKeyViolation, renumbered.SqlState);
            Assert.Equal(1L, await ScalarAsync<long>(connection, $"SELECT count(*) FROM {table} WHERE id = '{id}'"));
        }

        var rehomed = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(connection, $"UPDATE events SET account_id = 'acc_other' WHERE id = '{ingested.Id}'"));
        Assert.Equal(PostgresErrorCodes.ForeignKeyViolation, rehomed.SqlState);
        Assert.Equal(1L, await ScalarAsync<long>(connection, "SELECT count(*) FROM all_deliveries"));
    }

    [Fact]
    public async Task Writing_a_delivery_row_for_its_result_leaves_its_event_row_unlocked()
    {
        // The point of checking by statement: a foreign key's check locked the event row FOR KEY SHARE, writing the lock
        // into its tuple (xmax) for every delivery row written after its event's transaction, which is every one of them.
        var account = await AccountAsync();
        await WebhookAsync(account);
        var events = Enumerable.Range(0, 3).Select(i => Event(account, at: T0 + TimeSpan.FromMilliseconds(i))).ToArray();
        var leased = (await Store.IngestAsync(new IngestBatch(events, null, null, Grant(T0 + LeaseFor)), Ct)).Leased;
        await using var connection = await OpenDirectAsync();
        Assert.Equal("0 0 0", await ScalarAsync<string>(connection, "SELECT string_agg(xmax::text, ' ') FROM events"));

        await CompleteAsync(T0 + TimeSpan.FromSeconds(1), [.. leased.Select(d => Success(d, T0))]);

        Assert.Equal(3L, await ScalarAsync<long>(connection, "SELECT count(*) FROM deliveries WHERE status = 'succeeded'"));
        Assert.Equal("0 0 0", await ScalarAsync<string>(connection, "SELECT string_agg(xmax::text, ' ') FROM events"));
    }

    private Task InsertDeliveriesAsync(NpgsqlConnection connection, string accountId, params (string Id, string EventId, string WebhookId)[] rows)
        => ExecuteAsync(connection, InsertDeliverySql,
            new NpgsqlParameter("a", accountId),
            new NpgsqlParameter("d", rows.Select(r => r.Id).ToArray()),
            new NpgsqlParameter("e", rows.Select(r => r.EventId).ToArray()),
            new NpgsqlParameter("w", rows.Select(r => r.WebhookId).ToArray()));
}
