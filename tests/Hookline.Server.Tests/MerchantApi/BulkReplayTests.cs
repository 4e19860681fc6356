using System.Net;
using System.Text.Json;
using Hookline.Server.Tests.Api;
using Hookline.Server.Tests.Infrastructure;
using Hookline.Testing;

namespace Hookline.Server.Tests.MerchantApi;

/// <summary>
/// Events that arrive while a webhook is disabled are kept as <c>skipped</c> deliveries; after re-enabling,
/// <c>POST /v1/webhooks/{id}/replay</c> sends them, narrowed by window, status and event names.
/// </summary>
public sealed class BulkReplayTests : IAsyncLifetime
{
    // Half a second past the minute: created_at is shown in whole seconds while stored in milliseconds.
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, 500, TimeSpan.Zero);
    private static readonly string[] Names = ["payment.captured", "payment.failed", "refund.processed"];
    private readonly ManualTimeProvider _clock = new(Start);
    private HooklineHost _host = null!;
    private TestReceiver _receiver = null!;
    private TestAccount _account = null!;
    private string _webhookId = null!;
    private List<string> _events = null!;

    public async Task InitializeAsync()
    {
        _host = await HooklineHost.StartAsync(time: _clock, jitter: new FixedJitter(0.5));
        _receiver = await TestReceiver.StartAsync();
        _account = await _host.CreateAccountAsync();
        _webhookId = (await _account.CreateWebhookAsync(_receiver.Url.ToString(), events: Names, secret: "bulk-replay-secret-01")).GetProperty("id").GetString()!;
        await ApiAssert.JsonAsync(await _account.Test.PatchJsonAsync($"/v1/webhooks/{_webhookId}", """{"active":false}"""), HttpStatusCode.OK);

        _events = [];
        foreach (var name in Names)
        {
            var published = await _host.PublishAsync(_account.Id, name, payload: Payload(name));
            Assert.Equal(1, published.GetProperty("skipped").GetInt32());
            _events.Add(published.GetProperty("id").GetString()!);
            _clock.Advance(TimeSpan.FromSeconds(10));
        }
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    private static long At(int index) => Start.AddSeconds(10 * index).ToUnixTimeSeconds();

    [Fact]
    public async Task Skipped_deliveries_are_all_replayed_after_re_enabling()
    {
        foreach (var eventId in _events)
        {
            var skipped = await _account.Test.DeliveryAsync(eventId);
            Assert.Equal("skipped", skipped.GetProperty("status").GetString());
            Assert.Equal(0, skipped.GetProperty("attempt_count").GetInt32());
        }

        Assert.Equal(3, (await _account.Test.GetJsonAsync($"/v1/webhooks/{_webhookId}/deliveries?status=skipped")).GetProperty("count").GetInt32());
        await EnableAsync();

        var replay = await ReplayAsync(At(0), At(2), "skipped");

        Assert.Equal("replay", replay.GetProperty("entity").GetString());
        Assert.Equal(_webhookId, replay.GetProperty("webhook_id").GetString());
        Assert.Equal(3, replay.GetProperty("queued").GetInt32());
        await _receiver.WaitForAsync(3);
        foreach (var eventId in _events)
        {
            var delivery = await _account.Test.DeliveryWithStatusAsync(eventId, "succeeded");
            Assert.Equal(["replay"], delivery.GetProperty("attempts").EnumerateArray().Select(a => a.GetProperty("trigger").GetString()));
        }

        Assert.Equal(_events.Order(), _receiver.Requests.Select(r => r.Header("webhook-id")).Order());
        Assert.All(_receiver.Requests, r => Signatures.AssertSignedWith(r, "bulk-replay-secret-01", "bulk replay"));
        Assert.Equal(0, (await _account.Test.GetJsonAsync($"/v1/webhooks/{_webhookId}/deliveries?status=skipped")).GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Filters_that_match_nothing_queue_nothing()
    {
        await EnableAsync();

        Assert.Equal(0, (await ReplayAsync(At(0), At(2), "failed")).GetProperty("queued").GetInt32());
        Assert.Equal(0, (await ReplayAsync(At(0), At(2), null)).GetProperty("queued").GetInt32());
        Assert.Equal(0, (await ReplayAsync(At(3), At(9), "skipped")).GetProperty("queued").GetInt32());
        Assert.Equal(0, (await ReplayAsync(0, At(0) - 1, "all")).GetProperty("queued").GetInt32());
        Assert.Equal(0, (await ReplayAsync(At(0), At(2), "skipped", ["order.paid"])).GetProperty("queued").GetInt32());

        Assert.Equal(3, (await _account.Test.GetJsonAsync($"/v1/webhooks/{_webhookId}/deliveries?status=skipped")).GetProperty("count").GetInt32());
        Assert.Equal(0, _receiver.Count);
    }

    [Fact]
    public async Task Event_names_and_the_window_narrow_the_replay()
    {
        await EnableAsync();

        var byName = await ReplayAsync(At(0), At(2), "skipped", ["payment.failed"]);
        Assert.Equal(1, byName.GetProperty("queued").GetInt32());
        await _account.Test.DeliveryWithStatusAsync(_events[1], "succeeded");

        // The window's ends are inclusive to the second shown as created_at.
        var byWindow = await ReplayAsync(At(2), At(2), "skipped");
        Assert.Equal(1, byWindow.GetProperty("queued").GetInt32());
        await _account.Test.DeliveryWithStatusAsync(_events[2], "succeeded");

        Assert.Equal("skipped", (await _account.Test.DeliveryAsync(_events[0])).GetProperty("status").GetString());
        Assert.Equal([_events[1], _events[2]], _receiver.Requests.Select(r => r.Header("webhook-id")));

        // "all" takes every status, succeeded included.
        var all = await ReplayAsync(At(0), At(2), "all");
        Assert.Equal(3, all.GetProperty("queued").GetInt32());
        await _receiver.WaitForAsync(5);
    }

    [Fact]
    public async Task Bad_bulk_replay_requests_are_refused_naming_the_field()
    {
        await EnableAsync();
        var path = $"/v1/webhooks/{_webhookId}/replay";

        await ApiAssert.ErrorAsync(await _account.Test.PostJsonAsync(path, $$"""{"from":{{At(2)}},"to":{{At(0)}},"status":"skipped"}"""), HttpStatusCode.BadRequest, "from");
        await ApiAssert.ErrorAsync(await _account.Test.PostJsonAsync(path, $$"""{"to":{{At(2)}}}"""), HttpStatusCode.BadRequest, "from");
        await ApiAssert.ErrorAsync(await _account.Test.PostJsonAsync(path, $$"""{"from":{{At(0)}}}"""), HttpStatusCode.BadRequest, "to");
        await ApiAssert.ErrorAsync(await _account.Test.PostJsonAsync(path, $$"""{"from":"yesterday","to":{{At(2)}}}"""), HttpStatusCode.BadRequest, "from");
        await ApiAssert.ErrorAsync(await _account.Test.PostJsonAsync(path, $$"""{"from":{{At(0)}},"to":{{At(2)}},"status":"pending"}"""), HttpStatusCode.BadRequest, "status");
        await ApiAssert.ErrorAsync(await _account.Test.PostJsonAsync(path, $$"""{"from":{{At(0)}},"to":{{At(2)}},"events":["no.such_event"]}"""), HttpStatusCode.BadRequest, "events");
        await ApiAssert.ErrorAsync(await _account.Test.PostJsonAsync(path, $$"""{"from":{{At(0)}},"to":{{At(2)}},"events":["payout.processed"]}"""), HttpStatusCode.BadRequest, "events");
        await ApiAssert.ErrorAsync(await _account.Test.PostJsonAsync(path, $$"""{"from":{{At(0)}},"to":{{At(2)}},"colour":"red"}"""), HttpStatusCode.BadRequest, "colour");
        await ApiAssert.NotFoundAsync(await _account.Test.PostJsonAsync("/v1/webhooks/wh_00000000000000/replay", $$"""{"from":{{At(0)}},"to":{{At(2)}}}"""));

        Assert.Equal(3, (await _account.Test.GetJsonAsync($"/v1/webhooks/{_webhookId}/deliveries?status=skipped")).GetProperty("count").GetInt32());
        Assert.Equal(0, _receiver.Count);
    }

    [Fact]
    public async Task Bulk_replay_while_still_disabled_is_refused()
    {
        await ApiAssert.ErrorAsync(
            await _account.Test.PostJsonAsync($"/v1/webhooks/{_webhookId}/replay", $$"""{"from":{{At(0)}},"to":{{At(2)}},"status":"skipped"}"""),
            HttpStatusCode.BadRequest, "id");
        Assert.Equal(3, (await _account.Test.GetJsonAsync($"/v1/webhooks/{_webhookId}/deliveries?status=skipped")).GetProperty("count").GetInt32());
    }

    private async Task EnableAsync()
        => await ApiAssert.JsonAsync(await _account.Test.PatchJsonAsync($"/v1/webhooks/{_webhookId}", """{"active":true}"""), HttpStatusCode.OK);

    private async Task<JsonElement> ReplayAsync(long from, long to, string? status, string[]? events = null)
    {
        var body = new Dictionary<string, object> { ["from"] = from, ["to"] = to };
        if (status is not null)
        {
            body["status"] = status;
        }

        if (events is not null)
        {
            body["events"] = events;
        }

        return await ApiAssert.JsonAsync(await _account.Test.PostJsonAsync($"/v1/webhooks/{_webhookId}/replay", JsonSerializer.Serialize(body)), HttpStatusCode.Accepted);
    }

    private static object Payload(string name) => name.StartsWith("refund", StringComparison.Ordinal)
        ? new { refund = new { entity = new { id = "rfnd_" + Guid.NewGuid().ToString("N")[..14], entity = "refund", amount = 100 } } }
        : new { payment = new { entity = new { id = "pay_" + Guid.NewGuid().ToString("N")[..14], entity = "payment", amount = 50000 } } };
}
