using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Hookline.Cli.Tests.Infrastructure;
using Hookline.Server.Tests.Infrastructure;
using Hookline.Tests.Postgres;
using Npgsql;
using Xunit.Abstractions;

namespace Hookline.Cli.Tests;

/// <summary>
/// Several <c>hookline serve</c> processes on one PostgreSQL, with real process faults (<c>kill -9</c>,
/// <c>SIGSTOP</c>) and a real database crash (<c>pg_ctl stop -m immediate</c>). Each test owns its cluster.
/// </summary>
public sealed class MultiNodeTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int MaxConcurrency = 32;
    private const int PerWebhook = 8;
    private static readonly string MasterKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    private static readonly string[] Names = ["payment.captured", "payment.authorized", "refund.processed", "order.paid"];
    private readonly List<string> _directories = [];
    private readonly List<ServerProcess> _servers = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private PostgresCluster _cluster = null!;
    private string _database = null!;

    public async Task InitializeAsync()
    {
        // Always a cluster of its own, even with HOOKLINE_TEST_PG set: these tests crash and restart it.
        _cluster = await PostgresCluster.StartAsync(allowExternal: false);
        _database = await _cluster.CreateDatabaseAsync("multinode");
    }

    public async Task DisposeAsync()
    {
        foreach (var server in _servers)
        {
            ContinueIfStopped(server);
            if (Environment.GetEnvironmentVariable("HOOKLINE_TEST_NODE_LOGS") is { Length: > 0 } logs)
            {
                await File.WriteAllTextAsync(Path.Combine(logs, $"node-{server.ProcessId}.log"), server.Output);
            }

            await server.DisposeAsync();
        }

        NpgsqlConnection.ClearAllPools();
        await _cluster.DisposeAsync();

        foreach (var directory in _directories)
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Two_workers_and_an_api_node_deliver_everything_once_through_a_kill_9_and_a_SIGSTOP_past_the_lease()
    {
        var receivers = new[]
        {
            await SlowReceiverAsync(),
            await SlowReceiverAsync(),
            await SlowReceiverAsync(),
        };
        var subscriptions = new[] { new[] { "*" }, ["payment.captured"], ["refund.processed", "order.paid"] };
        var nodes = await Task.WhenAll(StartNodeAsync("api"), StartNodeAsync("worker"), StartNodeAsync("worker"));
        var (api, stopped, killed) = (nodes[0], nodes[1], nodes[2]);
        var (accountId, webhookIds) = await SetUpAsync(api, receivers, subscriptions);

        var accepted = new ConcurrentDictionary<string, string>();
        var publishing = PublishAsync(api, accountId, 2000, accepted, _ => { });

        await WaitUntilAsync(() => receivers[0].Count >= 300, "deliveries under way");
        var heldByStopped = await StopWhileHoldingLeasesAsync(stopped);
        Log($"SIGSTOP worker {stopped.ProcessId} holding {heldByStopped.Count} leases");
        // Past its lease: the other worker takes its deliveries over while it is frozen.
        await Task.Delay(TimeSpan.FromSeconds(4.5));
        var takenOver = await CountAsync($"SELECT count(*) FROM all_deliveries WHERE id = ANY(@ids) AND (status = 'succeeded' OR lease_owner NOT LIKE '%/{stopped.ProcessId}/%')", [.. heldByStopped]);
        await SignalAsync(stopped, "CONT");
        Log($"SIGCONT; {takenOver} of its leased deliveries were taken over meanwhile");
        Assert.True(takenOver > 0, "the running worker took over none of the frozen worker's expired leases");

        await WaitUntilAsync(() => receivers[0].Count >= 900, "more deliveries after SIGCONT");
        // Frozen first so that the leases seen are the ones it dies with (it finishes work within milliseconds).
        await StopWhileHoldingLeasesAsync(killed);
        await killed.KillAsync();
        var heldByKilled = await LeasedByAsync(killed);
        Log($"kill -9 worker {killed.ProcessId} holding {heldByKilled.Count} leases; {accepted.Count} events accepted so far");
        Assert.NotEmpty(heldByKilled);

        await publishing;
        Log($"publishing done: {accepted.Count} events accepted");
        var expected = receivers.Select((_, i) => accepted.Where(e => Subscribes(subscriptions[i], e.Value)).Select(e => e.Key).ToHashSet()).ToArray();
        await WaitUntilAsync(() => receivers.Select((r, i) => Received(r).IsSupersetOf(expected[i])).All(ok => ok), "every accepted event at every subscribed receiver", TimeSpan.FromSeconds(45));
        Log($"all {expected.Sum(e => e.Count)} deliveries of {accepted.Count} events received");

        // The database agrees: one delivery per (event, subscribed webhook), all succeeded, none completed twice.
        await WaitUntilAsync(() => CountAsync("SELECT count(*) FROM all_deliveries WHERE status <> 'succeeded' OR lease_owner IS NOT NULL").Result == 0, "the store is quiet");
        Assert.Equal(expected.Sum(e => e.Count), await CountAsync("SELECT count(*) FROM all_deliveries"));
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM (SELECT delivery_id FROM all_attempts WHERE status_code BETWEEN 200 AND 299 GROUP BY delivery_id HAVING count(*) > 1) AS twice"));
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM all_deliveries d WHERE NOT EXISTS (SELECT 1 FROM all_attempts a WHERE a.delivery_id = d.id AND a.status_code BETWEEN 200 AND 299)"));
        Assert.Equal(0, await CountAsync($"SELECT count(*) FROM all_deliveries WHERE lease_owner LIKE '%/{killed.ProcessId}/%'"));

        // Duplicates at receivers only for deliveries that a faulted worker held (in flight or awaiting its
        // batched commit) or that had a failed attempt (a timeout whose request did arrive).
        var mayRepeat = heldByStopped.Concat(heldByKilled).Concat(await IdsAsync("SELECT delivery_id FROM all_attempts GROUP BY delivery_id HAVING count(*) > 1")).ToHashSet();
        var deliveryIds = await DeliveryIdsAsync();
        var duplicates = 0;
        for (var i = 0; i < receivers.Length; i++)
        {
            foreach (var repeated in receivers[i].Requests.GroupBy(r => "evt_" + r.Header("X-Razorpay-Event-Id")).Where(g => g.Count() > 1))
            {
                duplicates += repeated.Count() - 1;
                var delivery = deliveryIds[(repeated.Key, webhookIds[i])];
                Assert.True(mayRepeat.Contains(delivery), $"{delivery} ({repeated.Key}) arrived {repeated.Count()} times but was never held by a faulted worker");
            }

            Assert.Empty(Received(receivers[i]).Except(expected[i]));
        }

        Log($"{duplicates} duplicate requests; the stopped worker discarded stale results: {stopped.Output.Contains("Discarded", StringComparison.Ordinal)}");
        foreach (var receiver in receivers)
        {
            await receiver.DisposeAsync();
        }
    }

    [Fact]
    public async Task PostgreSQL_crash_during_ingestion_answers_5xx_never_2xx_and_delivery_resumes_without_a_restart()
    {
        await using var receiver = await TestReceiver.StartAsync();
        // A poll interval far longer than the test waits: prompt delivery from the API node proves the wake-up
        // (LISTEN/NOTIFY), and prompt delivery after the crash proves the listener reconnected by itself.
        var slowPoll = new Dictionary<string, string> { ["Delivery:PollInterval"] = "00:00:20" };
        var nodes = await Task.WhenAll(StartNodeAsync("api"), StartNodeAsync("worker", slowPoll));
        var (api, worker) = (nodes[0], nodes[1]);
        var (accountId, _) = await SetUpAsync(api, [receiver], [["*"]]);
        Log($"promptly delivered before the crash in {await ProbeAsync(api, accountId, receiver)} ms");

        var accepted = new ConcurrentDictionary<string, string>();
        var answers = new ConcurrentQueue<(long Sent, long Answered, int Status)>();
        using var stop = new CancellationTokenSource();
        var publishing = PublishAsync(api, accountId, int.MaxValue, accepted, answers.Enqueue, stop.Token);
        await WaitUntilAsync(() => accepted.Count >= 300, "ingestion under way");

        await _cluster.CrashAsync();
        var down = _clock.ElapsedMilliseconds;
        await Task.Delay(TimeSpan.FromSeconds(3));
        var up = _clock.ElapsedMilliseconds;
        await _cluster.StartServerAsync();
        Log($"PostgreSQL down for {up - down} ms");
        var acceptedAtRestart = accepted.Count;
        await WaitUntilAsync(() => accepted.Count >= acceptedAtRestart + 200, "ingestion answers 2xx again");
        await stop.CancelAsync();
        await publishing;

        var whileDown = answers.Where(a => a.Sent > down && a.Answered < up).ToList();
        Assert.NotEmpty(whileDown);
        Assert.All(whileDown, a => Assert.InRange(a.Status, 500, 599));
        Log($"{whileDown.Count} requests while down, all 5xx; {answers.Count(a => a.Status >= 500)} 5xx in all, {accepted.Count} events accepted");

        // Every 2xx names a committed event, and every one is delivered by the worker that lived through it.
        var stored = (await IdsAsync("SELECT id FROM events")).ToHashSet();
        Assert.DoesNotContain(accepted.Keys, id => !stored.Contains(id));
        try
        {
            await WaitUntilAsync(() => Received(receiver).IsSupersetOf(accepted.Keys), "every accepted event delivered after the restart", TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            output.WriteLine("The worker's log:\n" + worker.Output);
            throw;
        }
        Log($"promptly delivered after the restart in {await ProbeAsync(api, accountId, receiver)} ms");
        Assert.Contains("Dispatcher", worker.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrate_with_postgres_applies_every_migration_once()
    {
        for (var run = 0; run < 2; run++)
        {
            var migrate = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in new[] { ServerProcess.HooklineDll(), "migrate", "--postgres", _database })
            {
                migrate.ArgumentList.Add(arg);
            }

            migrate.Environment["HOOKLINE_Secrets__MasterKey"] = MasterKey;
            migrate.Environment["HOOKLINE_Platform__Token"] = ServerProcess.PlatformToken;
            migrate.WorkingDirectory = Directory.CreateTempSubdirectory("hookline-migrate-").FullName;
            _directories.Add(migrate.WorkingDirectory);
            using var process = Process.Start(migrate)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();

            Assert.True(process.ExitCode == 0, $"hookline migrate exited with {process.ExitCode}:\n{await stdout}\n{await stderr}");
            Assert.Contains("Migrations applied.", await stdout, StringComparison.Ordinal);
        }

        var versions = await IdsAsync("SELECT version::text FROM schema_migrations ORDER BY version");
        Assert.Equal(Storage.Postgres.PostgresStore.Migrations().Select(m => m.Version.ToString(CultureInfo.InvariantCulture)), versions);
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM all_deliveries"));
    }

    private async Task<ServerProcess> StartNodeAsync(string role, IDictionary<string, string>? overrides = null)
    {
        var directory = Directory.CreateTempSubdirectory("hookline-node-").FullName;
        lock (_directories)
        {
            _directories.Add(directory);
        }

        var settings = new Dictionary<string, string>
        {
            ["Secrets:MasterKey"] = MasterKey,
            ["Delivery:Timeout"] = "00:00:02",
            ["Delivery:LeaseDuration"] = "00:00:03",
            ["Delivery:RetryBaseDelay"] = "00:00:00.200",
            ["Delivery:PollInterval"] = "00:00:00.250",
            ["Delivery:MaxConcurrency"] = MaxConcurrency.ToString(CultureInfo.InvariantCulture),
            ["Delivery:MaxConcurrencyPerWebhook"] = PerWebhook.ToString(CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string>())
        {
            settings[key] = value;
        }

        var server = await ServerProcess.StartAsync(directory, ServerProcess.FreePort(), settings, "--role", role, "--postgres", _database);
        lock (_servers)
        {
            _servers.Add(server);
        }

        return server;
    }

    private static async Task<TestReceiver> SlowReceiverAsync()
        => await TestReceiver.StartAsync(async (_, context) =>
        {
            // Slow enough that workers have requests in flight when one is stopped or killed.
            await Task.Delay(50);
            context.Response.StatusCode = 200;
        });

    private static async Task<(string AccountId, string[] WebhookIds)> SetUpAsync(ServerProcess api, TestReceiver[] receivers, string[][] subscriptions)
    {
        using var platform = api.Platform();
        var account = await (await platform.PostAsJsonAsync("/v1/accounts", new { name = "Nodes", email = "nodes@example.test" })).Content.ReadFromJsonAsync<JsonElement>();
        var key = account.GetProperty("keys").EnumerateArray().First(k => k.GetProperty("mode").GetString() == "test");
        using var merchant = api.Merchant(key.GetProperty("id").GetString()!, key.GetProperty("secret").GetString()!);
        var webhookIds = new string[receivers.Length];
        for (var i = 0; i < receivers.Length; i++)
        {
            var created = await merchant.PostAsJsonAsync("/v1/webhooks", new { url = receivers[i].Url.ToString(), events = subscriptions[i], secret = "generate" });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            webhookIds[i] = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        }

        return (account.GetProperty("id").GetString()!, webhookIds);
    }

    /// <summary>Publishes batches of 20 at a steady pace (about 160 events/s) until <paramref name="total"/> or cancelled.</summary>
    private async Task PublishAsync(ServerProcess api, string accountId, int total, ConcurrentDictionary<string, string> accepted, Action<(long, long, int)> answered, CancellationToken cancellationToken = default)
    {
        using var client = api.Platform();
        var n = 0;
        while (n < total && !cancellationToken.IsCancellationRequested)
        {
            var batch = Enumerable.Range(n, 20).Select(i => new
            {
                account_id = accountId,
                mode = "test",
                @event = Names[i % Names.Length],
                payload = new { payment = new { entity = new { id = $"pay_{i:D14}", amount = 100 + i } } },
            }).ToArray();
            n += batch.Length;
            var sent = _clock.ElapsedMilliseconds;
            try
            {
                using var response = await client.PostAsJsonAsync("/v1/events/batch", new { events = batch }, CancellationToken.None);
                answered((sent, _clock.ElapsedMilliseconds, (int)response.StatusCode));
                if (response.StatusCode == HttpStatusCode.Created)
                {
                    var body = await response.Content.ReadFromJsonAsync<JsonElement>(CancellationToken.None);
                    foreach (var item in body.GetProperty("items").EnumerateArray())
                    {
                        accepted[item.GetProperty("id").GetString()!] = item.GetProperty("event").GetString()!;
                    }
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                answered((sent, _clock.ElapsedMilliseconds, 0));
            }

            await Task.Delay(120, CancellationToken.None);
        }
    }

    /// <summary>Milliseconds from publishing one event on the API node to its arrival at the receiver.</summary>
    private async Task<long> ProbeAsync(ServerProcess api, string accountId, TestReceiver receiver)
    {
        using var client = api.Platform();
        var started = _clock.ElapsedMilliseconds;
        using var response = await client.PostAsJsonAsync("/v1/events", new { account_id = accountId, mode = "test", @event = "payment.captured", payload = new { payment = new { entity = new { id = "pay_probe" } } } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        await WaitUntilAsync(() => Received(receiver).Contains(id), "the probe event delivered promptly (woken, not polled)", TimeSpan.FromSeconds(5));
        return _clock.ElapsedMilliseconds - started;
    }

    /// <summary>SIGSTOP at a moment the worker holds leases (it finishes work fast, so try until it does).</summary>
    private async Task<List<string>> StopWhileHoldingLeasesAsync(ServerProcess worker)
    {
        for (var tries = 0; tries < 100; tries++)
        {
            await SignalAsync(worker, "STOP");
            var held = await LeasedByAsync(worker);
            if (held.Count > 0)
            {
                return held;
            }

            await SignalAsync(worker, "CONT");
            await Task.Delay(50);
        }

        throw new TimeoutException("The worker never held a lease when stopped.");
    }

    private static bool Subscribes(string[] subscription, string name) => subscription.Contains("*") || subscription.Contains(name);

    private static HashSet<string> Received(TestReceiver receiver) => [.. receiver.Requests.Select(r => "evt_" + r.Header("X-Razorpay-Event-Id"))];

    private Task<List<string>> LeasedByAsync(ServerProcess server)
        => IdsAsync($"SELECT id FROM all_deliveries WHERE status = 'pending' AND lease_owner LIKE '%/{server.ProcessId}/%'");

    private async Task<Dictionary<(string EventId, string WebhookId), string>> DeliveryIdsAsync()
    {
        await using var connection = await OpenAsync();
        await using var command = new NpgsqlCommand("SELECT event_id, webhook_id, id FROM all_deliveries", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var ids = new Dictionary<(string, string), string>();
        while (await reader.ReadAsync())
        {
            ids[(reader.GetString(0), reader.GetString(1))] = reader.GetString(2);
        }

        return ids;
    }

    private async Task<List<string>> IdsAsync(string sql)
    {
        await using var connection = await OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var ids = new List<string>();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    private async Task<long> CountAsync(string sql, string[]? ids = null)
    {
        await using var connection = await OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        if (ids is not null)
        {
            command.Parameters.AddWithValue("ids", ids);
        }

        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(_database) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    private static async Task SignalAsync(ServerProcess server, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", server.ProcessId.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }

    private static void ContinueIfStopped(ServerProcess server)
    {
        try
        {
            using var kill = Process.Start("kill", ["-CONT", server.ProcessId.ToString(CultureInfo.InvariantCulture)]);
            kill.WaitForExit();
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    private void Log(string message) => output.WriteLine($"[{_clock.Elapsed.TotalSeconds,6:F1}s] {message}");

    private static async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var until = Environment.TickCount64 + (long)(timeout ?? TimeSpan.FromSeconds(30)).TotalMilliseconds;
        while (!condition())
        {
            if (Environment.TickCount64 > until)
            {
                throw new TimeoutException($"Timed out waiting for: {what}");
            }

            await Task.Delay(50);
        }
    }
}
