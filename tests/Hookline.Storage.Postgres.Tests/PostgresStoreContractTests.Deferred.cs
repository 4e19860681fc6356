using Hookline.Core;
using Hookline.Core.Delivery;
using Hookline.Core.Events;

namespace Hookline.Storage.Postgres.Tests;

/// <summary>
/// Deferred rows (migration 0005): how PostgreSQL keeps the deliveries it grants at ingestion. What every store must do
/// with them (reads, results, takeover, cancel, replay) is in the shared contract; this is what only this store does.
/// </summary>
public sealed partial class PostgresStoreContractTests
{
    [Fact]
    public async Task A_group_rows_arrays_are_compressed_with_lz4_where_the_server_has_it()
    {
        await using var connection = await OpenDirectAsync();
        var hasLz4 = await ScalarAsync<bool>(connection,
            "SELECT EXISTS (SELECT FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals))");
        var methods = await ScalarAsync<string>(connection, """
            SELECT string_agg(DISTINCT coalesce(nullif(attcompression, ''), '-'), ',')
            FROM pg_attribute WHERE attrelid = 'delivery_grants'::regclass AND attnum > 0 AND NOT attisdropped AND atttypid::regtype::text LIKE '%[]'
            """);

        // This machine's PostgreSQL is built with lz4 (as Debian's and most distributions' are); without it, pglz stays.
        Assert.True(hasLz4, "the PostgreSQL these tests run on has no lz4");
        Assert.Equal("l", methods);
    }

    [Fact]
    public async Task Granted_deliveries_are_one_group_row_and_each_delivery_row_is_written_once_by_its_result()
    {
        var account = await AccountAsync();
        await WebhookAsync(account);
        var events = Enumerable.Range(0, 3).Select(i => Event(account, at: T0 + TimeSpan.FromMilliseconds(i))).ToArray();
        await using var connection = await OpenDirectAsync();
        await ExecuteAsync(connection, """
            CREATE TABLE delivery_updates (id text);
            CREATE FUNCTION record_delivery_update() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN INSERT INTO delivery_updates VALUES (OLD.id); RETURN NEW; END $$;
            CREATE TRIGGER delivery_updated BEFORE UPDATE ON deliveries FOR EACH ROW EXECUTE FUNCTION record_delivery_update();
            """);

        var leased = (await Store.IngestAsync(new IngestBatch(events, null, null, Grant(T0 + LeaseFor)), Ct)).Leased;

        Assert.Equal(3, leased.Count);
        Assert.Equal(0L, await ScalarAsync<long>(connection, "SELECT count(*) FROM deliveries"));
        Assert.Equal(1L, await ScalarAsync<long>(connection, "SELECT count(*) FROM delivery_grants"));
        Assert.All(leased, d => Assert.Equal(leased[0].Id, d.Deferred!.Group));

        await CompleteAsync(T0 + TimeSpan.FromSeconds(1), Success(leased[0], T0), Success(leased[1], T0));
        Assert.Equal(2L, await ScalarAsync<long>(connection, "SELECT count(*) FROM deliveries WHERE status = 'succeeded' AND attempts = 1"));
        Assert.Equal(1L, await ScalarAsync<long>(connection, "SELECT count(*) FROM delivery_grants"));
        Assert.Equal(1L, await ScalarAsync<long>(connection, "SELECT count(*) FROM all_deliveries WHERE status = 'pending'"));

        // The last result of the group deletes it in the same transaction; no row was ever updated.
        await CompleteAsync(T0 + TimeSpan.FromSeconds(1), Success(leased[2], T0));
        Assert.Equal(3L, await ScalarAsync<long>(connection, "SELECT count(*) FROM deliveries WHERE status = 'succeeded'"));
        Assert.Equal(0L, await ScalarAsync<long>(connection, "SELECT count(*) FROM delivery_grants"));
        Assert.Equal(0L, await ScalarAsync<long>(connection, "SELECT count(*) FROM delivery_updates"));
    }

    [Fact]
    public async Task The_first_attempt_of_a_delivery_is_kept_in_its_row_and_later_attempts_as_rows_of_attempts()
    {
        var account = await AccountAsync();
        await WebhookAsync(account);
        var events = Enumerable.Range(0, 3).Select(i => Event(account, at: T0 + TimeSpan.FromMilliseconds(i))).ToArray();
        await using var connection = await OpenDirectAsync();
        var leased = (await Store.IngestAsync(new IngestBatch(events, null, null, Grant(T0 + LeaseFor)), Ct)).Leased;
        var retryAt = T0 + TimeSpan.FromMinutes(1);

        // The third's row is written before its result (a replay of its event does that), so its result is applied by
        // the update, which keeps the first attempt in the row as the deferred rows' insert does.
        await Store.ReplayEventAsync(account, Modes.Test, events[2].Id, null, T0 + TimeSpan.FromMilliseconds(100), T0 + TimeSpan.FromDays(1), Ct);
        await CompleteAsync(T0 + TimeSpan.FromSeconds(1), Success(leased[0], T0), Failure(leased[1], T0, retryAt), Success(leased[2], T0));
        Assert.Equal(3L, await ScalarAsync<long>(connection, "SELECT count(*) FROM deliveries WHERE first_attempt_started_at IS NOT NULL"));
        Assert.Equal(0L, await ScalarAsync<long>(connection, "SELECT count(*) FROM attempts"));
        Assert.Equal(1L, await ScalarAsync<long>(connection, $"SELECT count(*) FROM all_attempts WHERE delivery_id = '{leased[2].Id}' AND status_code = 200 AND number = 1"));

        // The second attempt is a row of attempts; the row's first is left as it was.
        var retry = Assert.Single(await LeaseAsync(retryAt));
        await CompleteAsync(retryAt + TimeSpan.FromSeconds(1), Success(retry, retryAt));
        Assert.Equal(leased[1].Id, await ScalarAsync<string>(connection, "SELECT string_agg(delivery_id, ',') FROM attempts WHERE number = 2"));
        Assert.Equal(1L, await ScalarAsync<long>(connection, "SELECT count(*) FROM attempts"));
        Assert.Equal(4L, await ScalarAsync<long>(connection, "SELECT count(*) FROM all_attempts"));
        var attempts = (await DeliveryAsync(account, leased[1].Id)).Attempts;
        Assert.Equal([1, 2], attempts.Select(a => a.Number));
        Assert.Equal([500, 200], attempts.Select(a => a.StatusCode ?? 0));
    }

    [Fact]
    public async Task A_delivery_leased_from_its_row_keeps_its_first_attempt_in_the_row_once_whatever_leases_raced()
    {
        // A row written at ingestion (no grant) is leased by a lease round. Its lease runs out while the first worker is
        // still trying, a second worker leases and tries it too: both results are attempt 1, and only the one whose
        // lease is current applies, so the row holds exactly one first attempt and attempts holds none.
        var account = await AccountAsync();
        await WebhookAsync(account);
        await IngestAsync(Event(account));
        await using var connection = await OpenDirectAsync();
        var first = Assert.Single(await LeaseAsync(T0));
        var second = Assert.Single(await LeaseAsync(T0 + LeaseFor, owner: "worker-b"));

        var report = await CompleteAsync(T0 + LeaseFor + TimeSpan.FromSeconds(1), Success(first, T0), Success(second, T0 + LeaseFor));

        Assert.Equal(1, report.Applied);
        Assert.Equal(0L, await ScalarAsync<long>(connection, "SELECT count(*) FROM attempts"));
        Assert.Equal((T0 + LeaseFor).ToUnixTimeMilliseconds(), await ScalarAsync<long>(connection, "SELECT first_attempt_started_at FROM deliveries"));
        Assert.Equal(1, Assert.Single((await DeliveryAsync(account, first.Id)).Attempts).Number);
    }

    [Fact]
    public async Task A_group_stays_while_an_entry_has_no_result_and_goes_when_its_lease_runs_out()
    {
        var account = await AccountAsync();
        var webhook = await WebhookAsync(account);
        var events = Enumerable.Range(0, 2).Select(i => Event(account, at: T0 + TimeSpan.FromMilliseconds(i))).ToArray();
        await using var connection = await OpenDirectAsync();
        var leased = (await Store.IngestAsync(new IngestBatch(events, null, null, Grant(T0 + LeaseFor)), Ct)).Leased;

        // The second entry gets its row from the disable that cancels it, but no result (its attempt never started):
        // the group stays, and reads find each delivery once.
        await CompleteAsync(T0 + TimeSpan.FromSeconds(1), Success(leased[0], T0));
        await Store.UpdateWebhookAsync(account, Modes.Test, webhook.Id, new Core.Webhooks.WebhookChanges(Active: false), T0 + TimeSpan.FromSeconds(2), Ct);
        Assert.Equal(1L, await ScalarAsync<long>(connection, "SELECT count(*) FROM delivery_grants"));
        Assert.Equal(0L, await ScalarAsync<long>(connection, "SELECT count(*) FROM granted_deliveries"));
        Assert.Equal(2L, await ScalarAsync<long>(connection, "SELECT count(*) FROM all_deliveries"));

        // Once its lease has run out, any lease round deletes it; the rows stay as they are.
        Assert.Empty(await LeaseAsync(T0 + LeaseFor - TimeSpan.FromMilliseconds(1), owner: "worker-b"));
        Assert.Equal(1L, await ScalarAsync<long>(connection, "SELECT count(*) FROM delivery_grants"));
        Assert.Empty(await LeaseAsync(T0 + LeaseFor, owner: "worker-b"));
        Assert.Equal(0L, await ScalarAsync<long>(connection, "SELECT count(*) FROM delivery_grants"));
        Assert.Equal(["cancelled", "succeeded"], (await Store.ListWebhookDeliveriesAsync(account, Modes.Test, webhook.Id, null, 10, 0, Ct))!.Select(d => d.Status).Order());
    }

    [Fact]
    public async Task A_page_of_a_webhooks_deliveries_reads_its_own_rows_not_the_webhooks_history()
    {
        // 20,000 deliveries of one webhook and a deferred group: the newest page merges the group's entries with the
        // newest rows of deliveries_by_webhook, reading about a page of them (all_deliveries is a UNION ALL).
        var account = await AccountAsync();
        var webhook = await WebhookAsync(account);
        await Store.IngestAsync(new IngestBatch([Event(account, at: T0 + TimeSpan.FromDays(1))], null, null, Grant(T0 + TimeSpan.FromDays(2))), Ct);
        await using var connection = await OpenDirectAsync();
        await ExecuteAsync(connection, $"""
            INSERT INTO events (id, account_id, mode, name, product, body, created_at)
                SELECT 'evt_' || g, '{account}', 'test', 'payment.captured', 'payments', '\x7b7d', g FROM generate_series(1, 20000) g;
            INSERT INTO deliveries (id, event_id, webhook_id, account_id, mode, status, trigger, created_at, next_attempt_at, deadline_at)
                SELECT 'dlv_' || g, 'evt_' || g, '{webhook.Id}', '{account}', 'test', 'succeeded', 'initial', g, NULL, 4102444800000
                FROM generate_series(1, 20000) g;
            ANALYZE deliveries;
            """);

        await using var explain = new Npgsql.NpgsqlCommand("EXPLAIN (ANALYZE, FORMAT JSON) " + PostgresStore.WebhookDeliveriesSql, connection);
        explain.Parameters.AddWithValue("w", webhook.Id);
        explain.Parameters.AddWithValue("status", NpgsqlTypes.NpgsqlDbType.Text, DBNull.Value);
        explain.Parameters.AddWithValue("count", 20);
        explain.Parameters.AddWithValue("skip", 0);
        var plan = (string)(await explain.ExecuteScalarAsync(Ct))!;

        var rowsRead = PlanNodes(plan)
            .Where(n => n.TryGetProperty("Relation Name", out _) && n.GetProperty("Node Type").GetString()!.Contains("Scan", StringComparison.Ordinal))
            .Select(n => (Relation: n.GetProperty("Relation Name").GetString()!, Rows: n.GetProperty("Actual Rows").GetDouble() * n.GetProperty("Actual Loops").GetDouble()))
            .ToList();
        // The page's rows, and a probe of the primary key per deferred entry (is its row written yet?).
        Assert.True(rowsRead.Where(r => r.Relation == "deliveries").Sum(r => r.Rows) <= 22, plan);

        var page = (await Store.ListWebhookDeliveriesAsync(account, Modes.Test, webhook.Id, null, 3, 0, Ct))!;
        Assert.Equal([DeliveryStatus.Pending, DeliveryStatus.Succeeded, DeliveryStatus.Succeeded], page.Select(d => d.Status));
    }
}
