using Hookline.Core;
using Hookline.Core.Accounts;
using Hookline.Core.Events;
using Hookline.Core.Storage;
using Hookline.Tests.Postgres;
using Hookline.Tests.StoreContract;
using Npgsql;

namespace Hookline.Storage.Postgres.Tests;

/// <summary>
/// The storage contract against a real PostgreSQL: one throwaway cluster for the run (or <c>HOOKLINE_TEST_PG</c>)
/// and one fresh database per test, plus what only PostgreSQL has. Without PostgreSQL every test fails with
/// the reason (on CI that is the point; xunit 2 cannot skip at run time).
/// </summary>
public sealed partial class PostgresStoreContractTests : StoreContractTests
{
    /// <summary>Migrated once; each test's database is a file copy of it (a few ms instead of create + migrate).</summary>
    private static readonly Lazy<Task<string>> MigratedTemplate = new(CreateMigratedTemplateAsync);
    private string? _connectionString;

    private string ConnectionString => _connectionString ?? throw new InvalidOperationException("No database yet.");

    private protected override async Task<IHooklineStore> CreateStoreAsync()
    {
        var cluster = await PostgresCluster.SharedAsync();
        _connectionString = await cluster.CreateDatabaseAsync("contract", await MigratedTemplate.Value);
        return await OpenAsync();
    }

    private protected override Task<IHooklineStore> ReopenStoreAsync() => OpenAsync();

    protected override async Task DeleteStoreDataAsync()
    {
        if (_connectionString is not null)
        {
            await (await PostgresCluster.SharedAsync()).DropDatabaseAsync(_connectionString);
        }
    }

    [Fact]
    public async Task Store_connections_commit_with_synchronous_commit_on_and_end_idle_transactions()
    {
        // The store forces both per connection, whatever the server, role or database default is.
        await using (var connection = await OpenDirectAsync())
        {
            await ExecuteAsync(connection, $"ALTER DATABASE {new NpgsqlConnectionStringBuilder(ConnectionString).Database} SET synchronous_commit = off");
        }

        await using var store = new PostgresStore(new PostgresOptions { ConnectionString = ConnectionString, IdleInTransactionTimeout = TimeSpan.FromSeconds(7) });
        var open = typeof(PostgresStore).GetMethod("OpenAsync", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)
            ?? throw new MissingMethodException(nameof(PostgresStore), "OpenAsync");
        await using var storeConnection = await (Task<NpgsqlConnection>)open.Invoke(store, [Ct])!;

        Assert.Equal("on", await ScalarAsync<string>(storeConnection, "SHOW synchronous_commit"));
        Assert.Equal("7s", await ScalarAsync<string>(storeConnection, "SHOW idle_in_transaction_session_timeout"));
    }

    [Fact]
    public async Task Audit_log_rejects_updates_deletes_and_truncation()
    {
        await using var connection = await OpenDirectAsync();
        await ExecuteAsync(connection, "INSERT INTO webhook_audit (account_id, mode, webhook_id, actor, action, changes, at) VALUES ('acc_x', 'test', 'wh_x', 'k', 'create', '{}', 0)");

        foreach (var sql in new[] { "UPDATE webhook_audit SET actor = 'someone else'", "DELETE FROM webhook_audit", "TRUNCATE webhook_audit" })
        {
            var refused = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(connection, sql));
            Assert.Contains("append-only", refused.MessageText, StringComparison.Ordinal);
        }

        Assert.Equal("k", await ScalarAsync<string>(connection, "SELECT actor FROM webhook_audit"));
    }

    [Fact]
    public async Task Processes_migrating_at_once_apply_each_migration_once()
    {
        var account = new Account(Ids.New(Ids.Account), "Acme", "ops@acme.test", new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await Store.CreateAccountAsync(account, [], Ct);
        var cluster = await PostgresCluster.SharedAsync();
        var fresh = await cluster.CreateDatabaseAsync("migrate");
        try
        {
            var stores = Enumerable.Range(0, 6).Select(_ => new PostgresStore(new PostgresOptions { ConnectionString = fresh })).ToArray();
            await Task.WhenAll(stores.Select(s => Task.Run(() => s.MigrateAsync(Ct))));
            await Task.WhenAll(stores.Select(s => s.MigrateAsync(Ct)));
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }

            await using var connection = new NpgsqlConnection(fresh);
            await connection.OpenAsync(Ct);
            var versions = new List<int>();
            await using (var command = new NpgsqlCommand("SELECT version FROM schema_migrations ORDER BY version", connection))
            await using (var reader = await command.ExecuteReaderAsync(Ct))
            {
                while (await reader.ReadAsync(Ct))
                {
                    versions.Add(reader.GetInt32(0));
                }
            }

            Assert.Equal(PostgresStore.Migrations().Select(m => m.Version), versions);
            await Store.MigrateAsync(Ct);
            Assert.Equal(account, await Store.GetAccountAsync(account.Id, Ct));
        }
        finally
        {
            await cluster.DropDatabaseAsync(fresh);
        }
    }

    [Fact]
    public async Task Unreachable_server_reports_unhealthy_and_fails_loudly()
    {
        var nowhere = new NpgsqlConnectionStringBuilder(ConnectionString) { Port = FreePort(), Timeout = 2 }.ConnectionString;
        await using var store = new PostgresStore(new PostgresOptions { ConnectionString = nowhere });

        Assert.False(await store.PingAsync(Ct));
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => store.IngestAsync(new Core.Events.IngestBatch([], null, null, null), Ct));
    }

    [Fact]
    public async Task Concurrent_ingestions_share_transactions_and_each_keeps_its_own_answer()
    {
        var account = new Account(Ids.New(Ids.Account), "Acme", "ops@acme.test", At);
        await Store.CreateAccountAsync(account, [], Ct);
        var store = (PostgresStore)Store;
        var first = Event(account.Id);
        Assert.Equal(IngestStatus.Created, (await Store.IngestAsync(new IngestBatch([first], "used-key", [1], null), Ct)).Status);

        var good = Enumerable.Range(0, 80).Select(_ => Event(account.Id)).ToList();
        var commitsBefore = store.IngestCommits;
        var results = await Task.WhenAll(good.Select(e => Task.Run(() => Store.IngestAsync(new IngestBatch([e], null, null, null), Ct))));

        // Eighty requests queued while the first groups were being written: fewer transactions (WAL flushes) than requests.
        Assert.All(results, r => Assert.Equal(IngestStatus.Created, r.Status));
        var commits = store.IngestCommits - commitsBefore;
        Assert.True(commits < good.Count, $"{commits} transactions for {good.Count} concurrent ingestions");

        // Requests that cannot be taken are answered alone, inside the groups: an unknown account, a key used before
        // (same request: the first answer; another request: a conflict), fresh keys.
        var plain = Enumerable.Range(0, 40).Select(_ => new IngestBatch([Event(account.Id)], null, null, null)).ToList();
        var unknown = Enumerable.Range(0, 10)
            .Select(i => new IngestBatch([Event(account.Id), Event(Ids.New(Ids.Account))], i % 2 == 0 ? $"freed-{i}" : null, [3], null)).ToList();
        var keyed = Enumerable.Range(0, 10).Select(i => new IngestBatch([Event(account.Id)], $"fresh-{i}", [2], null)).ToList();
        var replay = new IngestBatch([Event(account.Id)], "used-key", [1], null);
        var conflict = new IngestBatch([Event(account.Id)], "used-key", [9], null);
        var batches = plain.Concat(unknown).Concat(keyed).Append(replay).Append(conflict).ToList();
        var answers = await Task.WhenAll(batches.Select(b => Task.Run(() => Store.IngestAsync(b, Ct))));

        for (var i = 0; i < batches.Count; i++)
        {
            var batch = batches[i];
            var expected = unknown.Contains(batch) ? IngestStatus.UnknownAccount
                : batch == replay ? IngestStatus.Replayed
                : batch == conflict ? IngestStatus.IdempotencyConflict
                : IngestStatus.Created;
            Assert.Equal(expected, answers[i].Status);
            var stored = await Store.GetEventAsync(account.Id, Modes.Test, batch.Events[0].Id, Ct);
            Assert.Equal(expected == IngestStatus.Created, stored is not null);
        }

        Assert.Equal(first.Id, Assert.Single(answers[batches.IndexOf(replay)].Events).Id);

        // A rejected batch's key was claimed with the group's reads and given back: it is free for the retry.
        foreach (var key in unknown.Select(b => b.IdempotencyKey).OfType<string>())
        {
            Assert.Equal(IngestStatus.Created, (await Store.IngestAsync(new IngestBatch([Event(account.Id)], key, [3], null), Ct)).Status);
        }

        // A request that fails inside a group's transaction (an event id that is already stored) takes nobody with it:
        // the group rolls back and each of its requests runs again alone.
        var more = Enumerable.Range(0, 30).Select(_ => new IngestBatch([Event(account.Id)], null, null, null)).ToList();
        var duplicate = new IngestBatch([first with { }], null, null, null);
        more.Insert(15, duplicate);
        var outcomes = await Task.WhenAll(more.Select(b => Task.Run(async () =>
        {
            try
            {
                return (await Store.IngestAsync(b, Ct)).Status.ToString();
            }
            catch (PostgresException e)
            {
                return e.SqlState;
            }
        })));

        Assert.Equal(PostgresErrorCodes.UniqueViolation, outcomes[15]);
        Assert.All(outcomes.Where((_, i) => i != 15), o => Assert.Equal(nameof(IngestStatus.Created), o));
        foreach (var batch in more.Where(b => b != duplicate))
        {
            Assert.NotNull(await Store.GetEventAsync(account.Id, Modes.Test, batch.Events[0].Id, Ct));
        }
    }

    private static readonly DateTimeOffset At = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static NewEvent Event(string accountId)
    {
        var id = Ids.New(Ids.Event);
        return new NewEvent(id, accountId, Modes.Test, "payment.captured", Products.Payments, System.Text.Encoding.UTF8.GetBytes($$"""{"id":"{{id}}"}"""), At, At.AddDays(1));
    }

    /// <summary>
    /// Named after a hash of the migrations, so a shared server (HOOKLINE_TEST_PG) keeps one template per schema
    /// version instead of gaining one per run.
    /// </summary>
    private static async Task<string> CreateMigratedTemplateAsync()
    {
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes(string.Join("\n", PostgresStore.Migrations().Select(m => $"{m.Version}:{m.Sql}")))))[..16];
        var (template, created) = await (await PostgresCluster.SharedAsync()).EnsureDatabaseAsync($"hookline_contract_template_{hash}");
        if (created)
        {
            await using var store = new PostgresStore(new PostgresOptions { ConnectionString = template });
            await store.MigrateAsync(CancellationToken.None);
        }

        // A template must have no open connection while it is copied.
        NpgsqlConnection.ClearAllPools();
        return template;
    }

    private async Task<IHooklineStore> OpenAsync()
    {
        var store = new PostgresStore(new PostgresOptions { ConnectionString = ConnectionString });
        try
        {
            await store.MigrateAsync(Ct);
            return store;
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
    }

    private protected override async Task RefuseAttemptsOfAsync(string deliveryId)
    {
        await using var connection = await OpenDirectAsync();
        // A first attempt is kept in its delivery's row, later ones in attempts: both are refused.
        await ExecuteAsync(connection, $"""
            ALTER TABLE attempts ADD CONSTRAINT refuse_attempts CHECK (delivery_id <> '{deliveryId}') NOT VALID;
            ALTER TABLE deliveries ADD CONSTRAINT refuse_first_attempt CHECK (id <> '{deliveryId}' OR first_attempt_started_at IS NULL) NOT VALID;
            """);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Results_update_probes_the_primary_key_per_row_whatever_the_statistics_say(bool analysedBeforeAnythingWasLeased)
    {
        // 20,000 pending deliveries, half of them leased, on a table never analysed: the state of a fresh database, or
        // of one whose backlog grew faster than autovacuum looked. Planned from statistics, the results UPDATE then
        // visited every pending delivery for each batch (a hash of all of them, or a walk per id of the batch); it
        // must take each row of the batch by its primary key instead (PostgresStore.CompletePlanningSql).
        // Or: analysed while every row was finished and unleased (deferred rows are inserted so), so that the statistics
        // promise a handful of leased pending rows: the plan then read every one of them into a Materialize node and
        // compared each with every id of the batch (70–170 ms a batch in a PostgreSQL S1).
        await using var connection = await OpenDirectAsync();
        var (leasedStatus, leaseOwner) = analysedBeforeAnythingWasLeased ? ("'succeeded'", "NULL") : ("'pending'", "CASE WHEN g % 2 = 0 THEN 'worker' END");
        await ExecuteAsync(connection, $"""
            INSERT INTO accounts (id, name, email, created_at) VALUES ('acc_plan', 'Acme', 'ops@acme.test', 0);
            INSERT INTO webhooks (id, account_id, mode, product, url, events, active, created_at, updated_at)
                VALUES ('wh_plan', 'acc_plan', 'test', 'payments', 'https://example.com/hook', '["*"]', true, 0, 0);
            INSERT INTO events (id, account_id, mode, name, product, body, created_at)
                SELECT 'evt_' || g, 'acc_plan', 'test', 'payment.captured', 'payments', '\x7b7d', 0 FROM generate_series(1, 20000) g;
            INSERT INTO deliveries (id, event_id, webhook_id, account_id, mode, status, trigger, created_at, next_attempt_at, deadline_at,
                                    lease_owner, lease_expires_at, lease_token)
                SELECT 'dlv_' || g, 'evt_' || g, 'wh_plan', 'acc_plan', 'test', {leasedStatus}, 'initial', 0, 0, 4102444800000,
                       {leaseOwner}, CASE WHEN g % 2 = 0 THEN 4102444800000 END, 1
                FROM generate_series(1, 20000) g;
            """);
        if (analysedBeforeAnythingWasLeased)
        {
            await ExecuteAsync(connection, """
                ANALYZE deliveries;
                UPDATE deliveries SET status = 'pending', lease_owner = 'worker' WHERE id IN (SELECT 'dlv_' || (g * 2) FROM generate_series(1, 1024) g);
                """);
        }

        var ids = Enumerable.Range(1, 1024).Select(i => $"dlv_{i * 2}").ToArray();

        await using var transaction = await connection.BeginTransactionAsync(Ct);
        await using (var planning = new NpgsqlCommand(PostgresStore.CompletePlanningSql, connection, transaction))
        {
            await planning.ExecuteNonQueryAsync(Ct);
        }

        await using var explain = new NpgsqlCommand("EXPLAIN (FORMAT JSON) " + PostgresStore.CompleteSql, connection, transaction);
        explain.Parameters.AddWithValue("now", 1L);
        explain.Parameters.AddWithValue("id", ids);
        explain.Parameters.AddWithValue("token", ids.Select(_ => 1L).ToArray());
        explain.Parameters.AddWithValue("status", ids.Select(_ => "succeeded").ToArray());
        explain.Parameters.AddWithValue("attempts", ids.Select(_ => 1).ToArray());
        explain.Parameters.AddWithValue("trigger", ids.Select(_ => "initial").ToArray());
        explain.Parameters.AddWithValue("next", ids.Select(_ => (long?)null).ToArray());
        explain.Parameters.AddWithValue("code", ids.Select(_ => (int?)200).ToArray());
        explain.Parameters.AddWithValue("attempted", ids.Select(_ => true).ToArray());
        explain.Parameters.AddWithValue("error", ids.Select(_ => (string?)null).ToArray());
        explain.Parameters.AddWithValue("fstarted", ids.Select(_ => (long?)1).ToArray());
        explain.Parameters.AddWithValue("fms", ids.Select(_ => (int?)1).ToArray());
        explain.Parameters.AddWithValue("facode", ids.Select(_ => (int?)200).ToArray());
        explain.Parameters.AddWithValue("faerror", ids.Select(_ => (string?)null).ToArray());
        explain.Parameters.AddWithValue("fexcerpt", ids.Select(_ => (string?)null).ToArray());
        var plan = (string)(await explain.ExecuteScalarAsync(Ct))!;

        var scans = PlanNodes(plan)
            .Where(n => n.GetProperty("Node Type").GetString()!.EndsWith("Scan", StringComparison.Ordinal))
            .Select(n => (Node: n.GetProperty("Node Type").GetString()!, Index: n.TryGetProperty("Index Name", out var index) ? index.GetString() : null,
                          Condition: n.TryGetProperty("Index Cond", out var cond) ? cond.GetString() : null))
            .ToList();
        var deliveries = Assert.Single(scans, s => s.Node != "Function Scan");
        Assert.True(deliveries is ("Index Scan", "deliveries_pkey", { } condition) && condition.Contains("c.id", StringComparison.Ordinal), plan);
        Assert.DoesNotContain("Hash", plan, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_lease_round_reads_no_more_of_a_backlog_than_its_scan_whatever_the_statistics_say(bool analysedBeforeTheBacklog)
    {
        // 20,000 due deliveries on a table never analysed, or analysed while all of them were finished (a table of
        // millions of finished rows is analysed again only after a tenth of them changed). Planned from those statistics,
        // the first round read the whole backlog (a bitmap scan, or deliveries_unfinished_by_webhook) and sorted it before
        // its limit; under the lease transaction's settings (PostgresStore.LeasePlanningSql) it walks deliveries_due in
        // due order and stops at its scan of 4,096.
        await using var connection = await OpenDirectAsync();
        await ExecuteAsync(connection, """
            INSERT INTO accounts (id, name, email, created_at) VALUES ('acc_scan', 'Acme', 'ops@acme.test', 0);
            INSERT INTO webhooks (id, account_id, mode, product, url, events, active, created_at, updated_at)
                VALUES ('wh_scan', 'acc_scan', 'test', 'payments', 'https://example.com/hook', '["*"]', true, 0, 0);
            INSERT INTO events (id, account_id, mode, name, product, body, created_at)
                SELECT 'evt_' || g, 'acc_scan', 'test', 'payment.captured', 'payments', '\x7b7d', 0 FROM generate_series(1, 20000) g;
            INSERT INTO deliveries (id, event_id, webhook_id, account_id, mode, status, trigger, created_at, next_attempt_at, deadline_at, completed_at)
                SELECT 'dlv_' || g, 'evt_' || g, 'wh_scan', 'acc_scan', 'test', 'succeeded', 'initial', 0, NULL, 4102444800000, g
                FROM generate_series(1, 20000) g;
            """);
        if (analysedBeforeTheBacklog)
        {
            await ExecuteAsync(connection, "ANALYZE deliveries");
        }

        await ExecuteAsync(connection, "UPDATE deliveries SET status = 'pending', next_attempt_at = completed_at, completed_at = NULL");

        await using var transaction = await connection.BeginTransactionAsync(Ct);
        await using (var planning = new NpgsqlCommand(PostgresStore.LeasePlanningSql, connection, transaction))
        {
            await planning.ExecuteNonQueryAsync(Ct);
        }

        await using var explain = new NpgsqlCommand("EXPLAIN (ANALYZE, FORMAT JSON) " + PostgresStore.DueScanSql, connection, transaction);
        explain.Parameters.AddWithValue("now", 1_000_000L);
        explain.Parameters.AddWithValue("scan", 4096);
        explain.Parameters.AddWithValue("perWebhook", 1024L);
        explain.Parameters.AddWithValue("owner", "worker-a");
        explain.Parameters.AddWithValue("expires", 2_000_000L);
        explain.Parameters.AddWithValue("excluded", Array.Empty<string>());
        explain.Parameters.AddWithValue("limit", 1024);
        var plan = (string)(await explain.ExecuteScalarAsync(Ct))!;
        await transaction.RollbackAsync(Ct);

        var nodes = PlanNodes(plan)
            .Select(n => (Type: n.GetProperty("Node Type").GetString()!, Index: n.TryGetProperty("Index Name", out var index) ? index.GetString() : null,
                          Rows: (long)n.GetProperty("Actual Rows").GetDouble()))
            .ToList();
        Assert.Contains(nodes, n => n is ("Index Scan", "deliveries_due", 4096));
        Assert.True(nodes.All(n => n.Rows <= 4096), plan);
    }

    /// <summary>Every node of a plan from <c>EXPLAIN (FORMAT JSON)</c>, the top one first.</summary>
    private static IEnumerable<System.Text.Json.JsonElement> PlanNodes(string plan)
    {
        var pending = new Stack<System.Text.Json.JsonElement>([System.Text.Json.JsonDocument.Parse(plan).RootElement[0].GetProperty("Plan")]);
        while (pending.TryPop(out var node))
        {
            yield return node;
            if (node.TryGetProperty("Plans", out var children))
            {
                foreach (var child in children.EnumerateArray())
                {
                    pending.Push(child);
                }
            }
        }
    }

    [Fact]
    public async Task A_webhooks_unfinished_deliveries_are_read_through_an_index_that_holds_no_succeeded_one()
    {
        // Per-webhook leasing, cancelling and a failure streak's notice read a webhook's unfinished deliveries; succeeded
        // ones, nearly all of them, are left out of the index for that, so a completion (never a HOT update) adds no entry
        // there. One webhook with a due backlog of 20,000; nineteen with one pending, a few failed and 2,100 succeeded each.
        await using var connection = await OpenDirectAsync();
        await ExecuteAsync(connection, """
            INSERT INTO accounts (id, name, email, created_at) VALUES ('acc_round', 'Acme', 'ops@acme.test', 0);
            INSERT INTO webhooks (id, account_id, mode, product, url, events, active, created_at, updated_at)
                SELECT 'wh_' || w, 'acc_round', 'test', 'payments', 'https://example.com/hook', '["*"]', true, 0, 0 FROM generate_series(1, 20) w;
            INSERT INTO events (id, account_id, mode, name, product, body, created_at)
                SELECT 'evt_' || g, 'acc_round', 'test', 'payment.captured', 'payments', '\x7b7d', 0 FROM generate_series(1, 60000) g;
            INSERT INTO deliveries (id, event_id, webhook_id, account_id, mode, status, trigger, created_at, next_attempt_at, deadline_at,
                                    completed_at, attempts)
                SELECT 'dlv_' || g, 'evt_' || g, w, 'acc_round', 'test', s, 'initial', 0,
                       CASE WHEN s = 'pending' THEN CASE WHEN w = 'wh_1' THEN g ELSE 1000000 END END, 4102444800000,
                       CASE WHEN s = 'pending' THEN NULL ELSE g END, 1
                FROM generate_series(1, 60000) g,
                     LATERAL (SELECT CASE WHEN g <= 20000 THEN 'wh_1' ELSE 'wh_' || (g % 19 + 2) END AS w) AS webhook,
                     LATERAL (SELECT CASE WHEN g <= 20000 OR g > 59981 THEN 'pending' WHEN g > 59900 THEN 'failed' ELSE 'succeeded' END AS s) AS status;
            ANALYZE;
            """);

        await using var explainCount = new NpgsqlCommand("EXPLAIN (FORMAT JSON) " + PostgresStore.FailingDeliveriesSql, connection);
        explainCount.Parameters.AddWithValue("w", "wh_2");
        explainCount.Parameters.AddWithValue("since", 0L);
        var failing = (string)(await explainCount.ExecuteScalarAsync(Ct))!;
        // The second lease round, wh_1 served by the first: each other webhook's due deliveries by a seek, not a walk of
        // deliveries_due through wh_1's backlog (which the planner chose while it could).
        await using var explainLease = new NpgsqlCommand("EXPLAIN (FORMAT JSON) " + PostgresStore.PerWebhookSql, connection);
        explainLease.Parameters.AddWithValue("now", 1_000_000L);
        explainLease.Parameters.AddWithValue("perWebhook", 16L);
        explainLease.Parameters.AddWithValue("owner", "worker-a");
        explainLease.Parameters.AddWithValue("expires", 2_000_000L);
        explainLease.Parameters.AddWithValue("excluded", new[] { "wh_1" });
        explainLease.Parameters.AddWithValue("limit", 100);
        var lease = (string)(await explainLease.ExecuteScalarAsync(Ct))!;

        Assert.Contains("\"Index Name\": \"deliveries_unfinished_by_webhook\"", lease, StringComparison.Ordinal);
        Assert.DoesNotContain("deliveries_due", lease, StringComparison.Ordinal);
        Assert.Contains("\"Index Name\": \"deliveries_unfinished_by_webhook\"", failing, StringComparison.Ordinal);
        Assert.DoesNotContain("deliveries_by_webhook\"", failing, StringComparison.Ordinal);
        Assert.DoesNotContain("Seq Scan", failing, StringComparison.Ordinal);
        Assert.Equal(1L, await ScalarAsync<long>(connection,
            "SELECT count(*) FROM pg_indexes WHERE indexname = 'deliveries_unfinished_by_webhook' AND indexdef LIKE '%WHERE (status <> ''succeeded''::text)'"));
    }

    [Fact]
    public async Task A_lease_round_reaches_past_the_rows_another_worker_is_leasing_right_now()
    {
        // Another worker's lease transaction, still open, holds the two oldest rows: the round must skip them (SKIP
        // LOCKED) and take the next two, neither waiting for that worker nor coming back empty.
        var account = await AccountAsync();
        await WebhookAsync(account);
        var events = Enumerable.Range(0, 4).Select(i => Event(account, at: T0 + TimeSpan.FromSeconds(i))).ToArray();
        foreach (var evt in events)
        {
            await IngestAsync(evt);
        }

        await using var other = await OpenDirectAsync();
        await using var holding = await other.BeginTransactionAsync(Ct);
        await using (var lockOldest = new NpgsqlCommand(
            "SELECT id FROM deliveries WHERE event_id = ANY(@e) FOR UPDATE", other, holding))
        {
            lockOldest.Parameters.AddWithValue("e", events.Take(2).Select(e => e.Id).ToArray());
            await lockOldest.ExecuteNonQueryAsync(Ct);
        }

        var leased = await LeaseAsync(T0 + TimeSpan.FromMinutes(1), max: 2);

        Assert.Equal(events.Skip(2).Select(e => e.Id), leased.Select(d => d.EventId));
        await holding.RollbackAsync(Ct);
        Assert.Equal(events.Take(2).Select(e => e.Id), (await LeaseAsync(T0 + TimeSpan.FromMinutes(1), max: 4, owner: "worker-b")).Select(d => d.EventId));
    }

    [Fact]
    public async Task Attempts_are_inserted_under_the_servers_planner_settings_not_the_results_updates()
    {
        // The results UPDATE runs with custom plans forced and most scans off (CompletePlanningSql). Left in force for
        // the rest of the transaction, they reached the foreign-key check each attempt row runs inside the server, and
        // every one of those checks was planned anew: a third of the server's time for foreign keys in a PostgreSQL S1.
        // A statement trigger on attempts records the settings the store's insert ran under.
        await using (var connection = await OpenDirectAsync())
        {
            await ExecuteAsync(connection, """
                CREATE TABLE seen_settings (plan_cache_mode text, enable_hashjoin text, enable_mergejoin text, enable_seqscan text, enable_bitmapscan text, enable_material text);
                CREATE FUNCTION record_settings() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    INSERT INTO seen_settings VALUES (current_setting('plan_cache_mode'), current_setting('enable_hashjoin'),
                        current_setting('enable_mergejoin'), current_setting('enable_seqscan'), current_setting('enable_bitmapscan'), current_setting('enable_material'));
                    RETURN NULL;
                END $$;
                CREATE TRIGGER record_settings AFTER INSERT ON attempts FOR EACH STATEMENT EXECUTE FUNCTION record_settings();
                """);
        }

        // A first attempt is kept in its delivery's row: the second is the one inserted as a row of attempts.
        var account = await AccountAsync();
        await WebhookAsync(account);
        await IngestAsync(Event(account));
        var retryAt = T0.AddMinutes(1);
        await CompleteAsync(T0.AddSeconds(1), Failure(Assert.Single(await LeaseAsync(T0)), T0, retryAt));
        var report = await CompleteAsync(retryAt.AddSeconds(1), Success(Assert.Single(await LeaseAsync(retryAt)), retryAt));

        Assert.Equal(1, report.Applied);
        await using var check = await OpenDirectAsync();
        Assert.Equal("auto on on on on on", await ScalarAsync<string>(check,
            "SELECT string_agg(concat_ws(' ', plan_cache_mode, enable_hashjoin, enable_mergejoin, enable_seqscan, enable_bitmapscan, enable_material), '|') FROM seen_settings"));
    }

    [Fact]
    public async Task Lost_connections_are_not_a_refusal_of_the_data()
    {
        // Every connection the store holds is cut (an administrator, a failover): its next write fails, and the
        // completion writer must wait that out with the same batch, not set results apart and drop them.
        await Store.CountDeliveriesAsync(Ct);
        await using (var connection = await OpenDirectAsync())
        {
            await ExecuteAsync(connection, $"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");
        }

        var lost = await Assert.ThrowsAnyAsync<Exception>(() => Store.CompleteAsync(new([], T0, TimeSpan.FromHours(1)), Ct));

        Assert.False(Store.RefusesData(lost), lost.ToString());
    }

    private async Task<NpgsqlConnection> OpenDirectAsync()
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync(Ct);
        return connection;
    }

    private async Task ExecuteAsync(NpgsqlConnection connection, string sql, params NpgsqlParameter[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddRange(parameters);
        await command.ExecuteNonQueryAsync(Ct);
    }

    private async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync(Ct))!;
    }

    private static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
