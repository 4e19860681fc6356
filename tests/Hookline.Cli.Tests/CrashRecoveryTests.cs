using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Hookline.Cli.Tests.Infrastructure;
using Hookline.Server.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace Hookline.Cli.Tests;

public sealed class CrashRecoveryTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int MaxConcurrency = 32;
    private const int PerWebhook = 16;
    private const int Webhooks = 2;

    // What a worker can hold: twice the global cap of runnable work, plus up to two lanes' worth waiting behind
    // each saturated webhook. Only held deliveries can be sent twice after a kill.
    private const int MaxHeld = (2 * MaxConcurrency) + (Webhooks * 2 * PerWebhook);
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("hookline-crash-").FullName;
    private TestReceiver _all = null!;
    private TestReceiver _captured = null!;

    public async Task InitializeAsync()
    {
        _all = await TestReceiver.StartAsync();
        _captured = await TestReceiver.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _all.DisposeAsync();
        await _captured.DisposeAsync();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    [Fact]
    public async Task Kill_9_under_load_loses_no_accepted_event_and_duplicates_only_what_was_in_flight()
    {
        var port = ServerProcess.FreePort();
        var settings = new Dictionary<string, string>
        {
            ["Delivery:Timeout"] = "00:00:02",
            ["Delivery:LeaseDuration"] = "00:00:03",
            ["Delivery:RetryBaseDelay"] = "00:00:00.200",
            ["Delivery:MaxConcurrency"] = MaxConcurrency.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Delivery:PollInterval"] = "00:00:00.100",
            ["Delivery:MaxConcurrencyPerWebhook"] = PerWebhook.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        var server = await ServerProcess.StartAsync(_dataDirectory, port, settings);
        string accountId;
        using (var platform = server.Platform())
        {
            var account = await (await platform.PostAsJsonAsync("/v1/accounts", new { name = "Crash", email = "crash@example.test" })).Content.ReadFromJsonAsync<JsonElement>();
            accountId = account.GetProperty("id").GetString()!;
            var key = account.GetProperty("keys").EnumerateArray().First(k => k.GetProperty("mode").GetString() == "test");
            using var merchant = server.Merchant(key.GetProperty("id").GetString()!, key.GetProperty("secret").GetString()!);
            Assert.Equal(HttpStatusCode.Created, (await merchant.PostAsJsonAsync("/v1/webhooks", new { url = _all.Url.ToString(), events = new[] { "*" }, secret = "generate" })).StatusCode);
            Assert.Equal(HttpStatusCode.Created, (await merchant.PostAsJsonAsync("/v1/webhooks", new { url = _captured.Url.ToString(), events = new[] { "payment.captured" } })).StatusCode);
        }

        var accepted = new ConcurrentDictionary<string, string>();
        var ambiguous = 0;
        using var stop = new CancellationTokenSource();
        var publishing = PublishAsync(port, accountId, accepted, () => Interlocked.Increment(ref ambiguous), stop.Token);

        // Kill while events are being accepted and delivered.
        await WaitUntilAsync(() => accepted.Count >= 600 && _all.Count >= 200, "load under way");
        await server.KillAsync();
        var acceptedAtKill = accepted.Count;
        output.WriteLine($"killed with {acceptedAtKill} accepted, {_all.Count} + {_captured.Count} received");

        await using var restarted = await ServerProcess.StartAsync(_dataDirectory, port, settings);
        await WaitUntilAsync(() => accepted.Count >= acceptedAtKill + 300, "ingestion resumed after restart");
        await stop.CancelAsync();
        await publishing;

        var expectedAll = accepted.Keys.ToHashSet();
        var expectedCaptured = accepted.Where(e => e.Value == "payment.captured").Select(e => e.Key).ToHashSet();
        await WaitUntilAsync(() => Received(_all).IsSupersetOf(expectedAll) && Received(_captured).IsSupersetOf(expectedCaptured), "every accepted event delivered", TimeSpan.FromSeconds(90));

        // Nothing accepted is lost, per the database too: every delivery of an accepted event succeeded.
        var statuses = DeliveryStatuses(expectedAll);
        Assert.Equal(expectedAll.Count + expectedCaptured.Count, statuses.Count);
        await WaitUntilAsync(() => DeliveryStatuses(expectedAll).All(s => s == "succeeded"), "all deliveries recorded as succeeded");

        // No phantoms: every received event was accepted, or was in a request cut off by the kill (ambiguous).
        var phantoms = Received(_all).Except(expectedAll).Count();
        Assert.True(phantoms <= ambiguous * 20, $"{phantoms} events received that were never acknowledged (ambiguous requests: {ambiguous})");

        // Duplicates only for deliveries that were held (in flight or awaiting their batched commit) at the kill.
        var duplicates = _all.Requests.Count + _captured.Requests.Count - Received(_all).Count - Received(_captured).Count;
        output.WriteLine($"accepted {expectedAll.Count}, duplicates {duplicates}, ambiguous requests {ambiguous}");
        Assert.True(duplicates <= MaxHeld, $"{duplicates} duplicate requests; at most {MaxHeld} deliveries can be held by the killed worker");
    }

    private static HashSet<string> Received(TestReceiver receiver) => [.. receiver.Requests.Select(r => "evt_" + r.Header("X-Razorpay-Event-Id"))];

    private List<string> DeliveryStatuses(HashSet<string> eventIds)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(_dataDirectory, "hookline.db")};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT event_id, status FROM deliveries";
        using var reader = command.ExecuteReader();
        var statuses = new List<string>();
        while (reader.Read())
        {
            if (eventIds.Contains(reader.GetString(0)))
            {
                statuses.Add(reader.GetString(1));
            }
        }

        return statuses;
    }

    private static async Task PublishAsync(int port, string accountId, ConcurrentDictionary<string, string> accepted, Action onAmbiguous, CancellationToken cancellationToken)
    {
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", ServerProcess.PlatformToken);
        var names = new[] { "payment.captured", "payment.authorized", "refund.processed", "order.paid" };
        var n = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var batch = Enumerable.Range(0, 20).Select(i => new
            {
                account_id = accountId,
                mode = "test",
                @event = names[(n + i) % names.Length],
                payload = new { payment = new { entity = new { id = $"pay_{n + i:D14}", amount = 100 + i } } },
            }).ToArray();
            n += batch.Length;
            try
            {
                using var response = await client.PostAsJsonAsync("/v1/events/batch", new { events = batch }, CancellationToken.None);
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
                // The server died under this request: it may or may not have committed.
                onAmbiguous();
                await Task.Delay(50, CancellationToken.None);
            }
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var until = Environment.TickCount64 + (long)(timeout ?? TimeSpan.FromSeconds(60)).TotalMilliseconds;
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
