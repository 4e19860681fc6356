using System.Net;
using Hookline.Server.Tests.Api;
using Hookline.Server.Tests.Infrastructure;
using Hookline.Testing;

namespace Hookline.Server.Tests.MerchantApi;

/// <summary>
/// Replay of one event (DESIGN §3, §5): only up to Replay:MaxAge after the event, only to webhooks that were
/// subscribed when it happened, never to a disabled webhook, never across accounts.
/// </summary>
public sealed class ReplayRulesTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly ManualTimeProvider _clock = new(Start);
    private HooklineHost _host = null!;
    private TestReceiver _receiver = null!;
    private TestAccount _account = null!;

    public async Task InitializeAsync()
    {
        _host = await HooklineHost.StartAsync(time: _clock, jitter: new FixedJitter(0.5));
        _receiver = await TestReceiver.StartAsync();
        _account = await _host.CreateAccountAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    private string Url(string path) => new Uri(_receiver.Url, path).ToString();

    [Fact]
    public async Task Replay_of_event_older_than_15_days_is_rejected_and_younger_is_accepted()
    {
        await _account.CreateWebhookAsync(Url("/a"));
        var eventId = (await _host.PublishAsync(_account.Id)).GetProperty("id").GetString()!;
        await _account.Test.DeliveryWithStatusAsync(eventId, "succeeded");

        _clock.Advance(TimeSpan.FromDays(15) - TimeSpan.FromSeconds(1));
        var accepted = await ApiAssert.JsonAsync(await _account.Test.PostJsonAsync($"/v1/events/{eventId}/replay", "{}"), HttpStatusCode.Accepted);
        Assert.Equal(1, accepted.GetProperty("queued").GetInt32());
        await _account.Test.DeliveryAfterAttemptsAsync(eventId, 2);

        _clock.Advance(TimeSpan.FromSeconds(2));
        await ApiAssert.ErrorAsync(await _account.Test.PostJsonAsync($"/v1/events/{eventId}/replay", "{}"), HttpStatusCode.BadRequest, "id");
        _clock.Advance(TimeSpan.FromDays(1));
        await ApiAssert.ErrorAsync(await _account.Test.PostJsonAsync($"/v1/events/{eventId}/replay", "{}"), HttpStatusCode.BadRequest, "id");

        Assert.Equal(2, (await _account.Test.DeliveryAsync(eventId)).GetProperty("attempt_count").GetInt32());
        Assert.Equal(2, _receiver.Count);
    }

    [Fact]
    public async Task Replay_max_age_is_configurable()
    {
        await using var host = await HooklineHost.StartAsync(new Dictionary<string, string?> { ["Replay:MaxAge"] = "00:10:00" }, time: _clock);
        var account = await host.CreateAccountAsync();
        await account.CreateWebhookAsync(Url("/short"));
        var eventId = (await host.PublishAsync(account.Id)).GetProperty("id").GetString()!;
        await account.Test.DeliveryWithStatusAsync(eventId, "succeeded");

        _clock.Advance(TimeSpan.FromMinutes(11));

        await ApiAssert.ErrorAsync(await account.Test.PostJsonAsync($"/v1/events/{eventId}/replay", "{}"), HttpStatusCode.BadRequest, "id");
    }

    [Fact]
    public async Task Webhook_created_after_the_event_cannot_receive_its_replay()
    {
        var before = (await _account.CreateWebhookAsync(Url("/before"))).GetProperty("id").GetString()!;
        var eventId = (await _host.PublishAsync(_account.Id)).GetProperty("id").GetString()!;
        await _account.Test.DeliveryWithStatusAsync(eventId, "succeeded", before);
        var after = (await _account.CreateWebhookAsync(Url("/after"))).GetProperty("id").GetString()!;

        await ApiAssert.ErrorAsync(
            await _account.Test.PostJsonAsync($"/v1/events/{eventId}/replay", $$"""{"webhook_id":"{{after}}"}"""), HttpStatusCode.BadRequest, "webhook_id");
        var all = await ApiAssert.JsonAsync(await _account.Test.PostJsonAsync($"/v1/events/{eventId}/replay", "{}"), HttpStatusCode.Accepted);

        Assert.Equal(1, all.GetProperty("queued").GetInt32());
        await _account.Test.DeliveryAfterAttemptsAsync(eventId, 2, before);
        Assert.Equal(["/before", "/before"], _receiver.Requests.Select(r => r.Path));
        var deliveries = (await _account.Test.GetJsonAsync($"/v1/events/{eventId}")).GetProperty("deliveries");
        Assert.Equal([before], deliveries.EnumerateArray().Select(d => d.GetProperty("webhook_id").GetString()));
        Assert.Equal(0, (await _account.Test.GetJsonAsync($"/v1/webhooks/{after}/deliveries")).GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Webhook_not_subscribed_to_the_event_when_it_happened_cannot_receive_its_replay()
    {
        var subscribed = (await _account.CreateWebhookAsync(Url("/subscribed"))).GetProperty("id").GetString()!;
        var other = (await _account.CreateWebhookAsync(Url("/other"), events: new[] { "refund.processed" })).GetProperty("id").GetString()!;
        var eventId = (await _host.PublishAsync(_account.Id)).GetProperty("id").GetString()!;
        await _account.Test.DeliveryWithStatusAsync(eventId, "succeeded", subscribed);
        // Subscribing afterwards does not make it subscribed "when it happened".
        await ApiAssert.JsonAsync(await _account.Test.PatchJsonAsync($"/v1/webhooks/{other}", """{"events":["*"]}"""), HttpStatusCode.OK);

        await ApiAssert.ErrorAsync(
            await _account.Test.PostJsonAsync($"/v1/events/{eventId}/replay", $$"""{"webhook_id":"{{other}}"}"""), HttpStatusCode.BadRequest, "webhook_id");

        Assert.Equal(0, (await _account.Test.GetJsonAsync($"/v1/webhooks/{other}/deliveries")).GetProperty("count").GetInt32());
        Assert.DoesNotContain(_receiver.Requests, r => r.Path == "/other");
    }

    [Fact]
    public async Task Replay_to_a_disabled_webhook_is_rejected()
    {
        var webhookId = (await _account.CreateWebhookAsync(Url("/disabled"))).GetProperty("id").GetString()!;
        var eventId = (await _host.PublishAsync(_account.Id)).GetProperty("id").GetString()!;
        await _account.Test.DeliveryWithStatusAsync(eventId, "succeeded");
        await ApiAssert.JsonAsync(await _account.Test.PatchJsonAsync($"/v1/webhooks/{webhookId}", """{"active":false}"""), HttpStatusCode.OK);

        await ApiAssert.ErrorAsync(
            await _account.Test.PostJsonAsync($"/v1/events/{eventId}/replay", $$"""{"webhook_id":"{{webhookId}}"}"""), HttpStatusCode.BadRequest, "webhook_id");
        await ApiAssert.ErrorAsync(await _account.Test.PostJsonAsync($"/v1/events/{eventId}/replay", "{}"), HttpStatusCode.BadRequest, "id");
        await ApiAssert.ErrorAsync(
            await _account.Test.PostJsonAsync($"/v1/webhooks/{webhookId}/replay", $$"""{"from":0,"to":{{Start.AddDays(1).ToUnixTimeSeconds()}},"status":"all"}"""),
            HttpStatusCode.BadRequest, "id");

        var delivery = await _account.Test.DeliveryAsync(eventId);
        Assert.Equal("succeeded", delivery.GetProperty("status").GetString());
        Assert.Equal(1, delivery.GetProperty("attempt_count").GetInt32());
        Assert.Equal(1, _receiver.Count);
    }

    [Fact]
    public async Task Replay_to_a_deleted_webhook_is_rejected()
    {
        var webhookId = (await _account.CreateWebhookAsync(Url("/deleted"))).GetProperty("id").GetString()!;
        var eventId = (await _host.PublishAsync(_account.Id)).GetProperty("id").GetString()!;
        await _account.Test.DeliveryWithStatusAsync(eventId, "succeeded");
        Assert.Equal(HttpStatusCode.OK, (await _account.Test.DeleteAsync($"/v1/webhooks/{webhookId}")).StatusCode);

        await ApiAssert.ErrorAsync(
            await _account.Test.PostJsonAsync($"/v1/events/{eventId}/replay", $$"""{"webhook_id":"{{webhookId}}"}"""), HttpStatusCode.BadRequest, "webhook_id");
        Assert.Equal(1, _receiver.Count);
    }

    [Fact]
    public async Task Another_accounts_event_and_webhook_are_404_and_nothing_is_replayed()
    {
        var webhookId = (await _account.CreateWebhookAsync(Url("/owner"))).GetProperty("id").GetString()!;
        var eventId = (await _host.PublishAsync(_account.Id)).GetProperty("id").GetString()!;
        await _account.Test.DeliveryWithStatusAsync(eventId, "succeeded");
        var intruder = await _host.CreateAccountAsync("Globex", "ops@globex.test");
        var intruderWebhook = (await intruder.CreateWebhookAsync(Url("/intruder"))).GetProperty("id").GetString()!;
        var intruderEvent = (await _host.PublishAsync(intruder.Id)).GetProperty("id").GetString()!;
        await intruder.Test.DeliveryWithStatusAsync(intruderEvent, "succeeded");
        var window = $$"""{"from":0,"to":{{Start.AddDays(1).ToUnixTimeSeconds()}},"status":"all"}""";

        await ApiAssert.NotFoundAsync(await intruder.Test.PostJsonAsync($"/v1/events/{eventId}/replay", "{}"));
        await ApiAssert.NotFoundAsync(await intruder.Test.PostJsonAsync($"/v1/events/{eventId}/replay", $$"""{"webhook_id":"{{intruderWebhook}}"}"""));
        await ApiAssert.NotFoundAsync(await intruder.Live.PostJsonAsync($"/v1/events/{eventId}/replay", "{}"));
        await ApiAssert.NotFoundAsync(await _account.Live.PostJsonAsync($"/v1/events/{eventId}/replay", "{}"));
        await ApiAssert.NotFoundAsync(await intruder.Test.PostJsonAsync($"/v1/webhooks/{webhookId}/replay", window));
        // The owner's event replayed to the intruder's webhook: that webhook never had a delivery of it.
        var crossed = await _account.Test.PostJsonAsync($"/v1/events/{eventId}/replay", $$"""{"webhook_id":"{{intruderWebhook}}"}""");
        Assert.True(crossed.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound, $"answered {(int)crossed.StatusCode}");

        Assert.Equal(1, (await _account.Test.DeliveryAsync(eventId)).GetProperty("attempt_count").GetInt32());
        Assert.Equal(1, (await intruder.Test.DeliveryAsync(intruderEvent)).GetProperty("attempt_count").GetInt32());
        Assert.Equal(2, _receiver.Count);
    }

    [Fact]
    public async Task Bulk_replay_does_not_reach_events_older_than_the_max_age()
    {
        var webhookId = (await _account.CreateWebhookAsync(Url("/bulk-old"))).GetProperty("id").GetString()!;
        await ApiAssert.JsonAsync(await _account.Test.PatchJsonAsync($"/v1/webhooks/{webhookId}", """{"active":false}"""), HttpStatusCode.OK);
        var old = (await _host.PublishAsync(_account.Id)).GetProperty("id").GetString()!;
        _clock.Advance(TimeSpan.FromDays(16));
        var recent = (await _host.PublishAsync(_account.Id)).GetProperty("id").GetString()!;
        await ApiAssert.JsonAsync(await _account.Test.PatchJsonAsync($"/v1/webhooks/{webhookId}", """{"active":true}"""), HttpStatusCode.OK);

        var replay = await ApiAssert.JsonAsync(
            await _account.Test.PostJsonAsync($"/v1/webhooks/{webhookId}/replay", $$"""{"from":0,"to":{{_clock.GetUtcNow().ToUnixTimeSeconds()}},"status":"skipped"}"""),
            HttpStatusCode.Accepted);

        Assert.Equal(1, replay.GetProperty("queued").GetInt32());
        await _account.Test.DeliveryWithStatusAsync(recent, "succeeded");
        Assert.Equal("skipped", (await _account.Test.DeliveryAsync(old)).GetProperty("status").GetString());
        Assert.Equal([recent], _receiver.Requests.Select(r => r.Header("webhook-id")));
    }
}
