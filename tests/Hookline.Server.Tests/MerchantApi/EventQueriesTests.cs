using System.Net;
using System.Text.Json;
using Hookline.Server.Tests.Api;
using Hookline.Server.Tests.Infrastructure;
using Hookline.Testing;

namespace Hookline.Server.Tests.MerchantApi;

/// <summary>
/// <c>GET /v1/events</c>, <c>GET /v1/events/{id}</c> and <c>GET /v1/webhooks/{id}/deliveries</c>: filters,
/// pagination bounds, newest first, Razorpay's collection shape, one account and mode only.
/// </summary>
public sealed class EventQueriesTests : IAsyncLifetime
{
    // Half a second past the minute, so window ends given in whole seconds meet events stored in milliseconds.
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, 250, TimeSpan.Zero);
    private static readonly string[] Names = ["payment.captured", "payment.failed", "payment.captured", "refund.processed"];
    private readonly ManualTimeProvider _clock = new(Start);
    private HooklineHost _host = null!;
    private TestReceiver _receiver = null!;
    private TestAccount _account = null!;
    private string _webhookId = null!;
    private List<string> _events = null!;

    public async Task InitializeAsync()
    {
        // A window shorter than the first backoff: a failed first attempt is final.
        _host = await HooklineHost.StartAsync(
            new Dictionary<string, string?> { ["Delivery:RetryBaseDelay"] = "00:00:10", ["Delivery:RetryWindow"] = "00:00:05" },
            time: _clock, jitter: new FixedJitter(0.5));
        _receiver = await TestReceiver.StartAsync((_, context) =>
        {
            context.Response.StatusCode = context.Request.Path == "/fails" ? 500 : 200;
            return Task.CompletedTask;
        });
        _account = await _host.CreateAccountAsync();
        _webhookId = (await _account.CreateWebhookAsync(_receiver.Url.ToString(), events: Names.Distinct().ToArray())).GetProperty("id").GetString()!;

        // Events 10 s apart: #0 payment.captured, #1 payment.failed, #2 payment.captured, #3 refund.processed.
        _events = [];
        foreach (var name in Names)
        {
            var id = (await _host.PublishAsync(_account.Id, name, payload: Payload(name))).GetProperty("id").GetString()!;
            _events.Add(id);
            await _account.Test.DeliveryWithStatusAsync(id, "succeeded");
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
    public async Task Events_list_newest_first_in_the_collection_shape()
    {
        var list = await _account.Test.GetJsonAsync("/v1/events");

        Assert.Equal(["count", "entity", "items"], list.EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal("collection", list.GetProperty("entity").GetString());
        Assert.Equal(4, list.GetProperty("count").GetInt32());
        Assert.Equal(Enumerable.Reverse(_events), Ids(list));
        var newest = list.GetProperty("items")[0];
        Assert.Equal("event", newest.GetProperty("entity").GetString());
        Assert.Equal("refund.processed", newest.GetProperty("event").GetString());
        Assert.Equal(At(3), newest.GetProperty("created_at").GetInt64());
        Assert.Equal(_account.Id, newest.GetProperty("envelope").GetProperty("account_id").GetString());
    }

    [Theory]
    [InlineData("from={1}", new[] { 3, 2, 1 })]
    [InlineData("to={1}", new[] { 1, 0 })]
    [InlineData("from={1}&to={2}", new[] { 2, 1 })]
    [InlineData("from={2}&to={2}", new[] { 2 })]
    [InlineData("event=payment.captured", new[] { 2, 0 })]
    [InlineData("event=payment.captured&from={1}", new[] { 2 })]
    [InlineData("event=order.paid", new int[0])]
    [InlineData("count=2", new[] { 3, 2 })]
    [InlineData("count=2&skip=2", new[] { 1, 0 })]
    [InlineData("count=100&skip=3", new[] { 0 })]
    [InlineData("skip=4", new int[0])]
    [InlineData("from={4}", new int[0])]
    public async Task Events_list_filters_and_pages(string query, int[] expected)
    {
        var resolved = string.Format(System.Globalization.CultureInfo.InvariantCulture, query, At(0), At(1), At(2), At(3), At(4));

        var list = await _account.Test.GetJsonAsync($"/v1/events?{resolved}");

        Assert.Equal(expected.Select(i => _events[i]), Ids(list));
        Assert.Equal(expected.Length, list.GetProperty("count").GetInt32());
    }

    [Theory]
    [InlineData("count=0", "count")]
    [InlineData("count=101", "count")]
    [InlineData("count=-1", "count")]
    [InlineData("count=ten", "count")]
    [InlineData("count=1&count=2", "count")]
    [InlineData("skip=-1", "skip")]
    [InlineData("skip=1000001", "skip")]
    [InlineData("from=yesterday", "from")]
    [InlineData("from=-5", "from")]
    [InlineData("to=1.5", "to")]
    [InlineData("to=99999999999999", "to")]
    [InlineData("event=no.such_event", "event")]
    public async Task Events_list_refuses_bad_parameters_naming_them(string query, string field)
    {
        await ApiAssert.ErrorAsync(await _account.Test.GetAsync($"/v1/events?{query}"), HttpStatusCode.BadRequest, field);
    }

    [Fact]
    public async Task Count_of_exactly_100_is_accepted()
    {
        Assert.Equal(4, (await _account.Test.GetJsonAsync("/v1/events?count=100")).GetProperty("count").GetInt32());
        Assert.Equal(1, (await _account.Test.GetJsonAsync("/v1/events?count=1")).GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Event_shows_its_envelope_and_deliveries()
    {
        var evt = await _account.Test.GetJsonAsync($"/v1/events/{_events[1]}");

        Assert.Equal(_events[1], evt.GetProperty("id").GetString());
        Assert.Equal("event", evt.GetProperty("entity").GetString());
        Assert.Equal("payment.failed", evt.GetProperty("event").GetString());
        Assert.Equal("test", evt.GetProperty("mode").GetString());
        Assert.Equal(At(1), evt.GetProperty("created_at").GetInt64());
        var envelope = evt.GetProperty("envelope");
        Assert.Equal("payment.failed", envelope.GetProperty("event").GetString());
        Assert.Equal(At(1), envelope.GetProperty("created_at").GetInt64());
        var delivery = Assert.Single(evt.GetProperty("deliveries").EnumerateArray());
        Assert.Equal(_webhookId, delivery.GetProperty("webhook_id").GetString());
        Assert.Equal("succeeded", delivery.GetProperty("status").GetString());
        Assert.Equal(1, delivery.GetProperty("attempt_count").GetInt32());
    }

    [Fact]
    public async Task Webhook_deliveries_filter_by_status_newest_first()
    {
        var failingId = (await _account.CreateWebhookAsync(new Uri(_receiver.Url, "/fails").ToString(), events: new[] { "*" })).GetProperty("id").GetString()!;
        var failed = (await _host.PublishAsync(_account.Id)).GetProperty("id").GetString()!;
        await _account.Test.DeliveryWithStatusAsync(failed, "failed", failingId);
        // Nothing may be in flight when the clock moves: an attempt's budget runs on it too.
        await _account.Test.DeliveryWithStatusAsync(failed, "succeeded", _webhookId);
        _clock.Advance(TimeSpan.FromSeconds(10));
        var failedToo = (await _host.PublishAsync(_account.Id, "refund.processed", payload: Payload("refund.processed"))).GetProperty("id").GetString()!;
        await _account.Test.DeliveryWithStatusAsync(failedToo, "failed", failingId);
        await _account.Test.DeliveryWithStatusAsync(failedToo, "succeeded", _webhookId);

        var failedList = await _account.Test.GetJsonAsync($"/v1/webhooks/{failingId}/deliveries?status=failed");
        Assert.Equal("collection", failedList.GetProperty("entity").GetString());
        Assert.Equal([failedToo, failed], failedList.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("event_id").GetString()));
        Assert.All(failedList.GetProperty("items").EnumerateArray(), d =>
        {
            Assert.Equal("delivery", d.GetProperty("entity").GetString());
            Assert.Equal(failingId, d.GetProperty("webhook_id").GetString());
            Assert.Equal(500, d.GetProperty("last_status_code").GetInt32());
        });
        Assert.Equal(0, (await _account.Test.GetJsonAsync($"/v1/webhooks/{failingId}/deliveries?status=succeeded")).GetProperty("count").GetInt32());

        var healthy = await _account.Test.GetJsonAsync($"/v1/webhooks/{_webhookId}/deliveries");
        Assert.Equal(new[] { failedToo, failed }.Concat(Enumerable.Reverse(_events)), healthy.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("event_id").GetString()));
        Assert.Equal(0, (await _account.Test.GetJsonAsync($"/v1/webhooks/{_webhookId}/deliveries?status=failed")).GetProperty("count").GetInt32());
        Assert.Equal([_events[3]], (await _account.Test.GetJsonAsync($"/v1/webhooks/{_webhookId}/deliveries?status=succeeded&count=1&skip=2"))
            .GetProperty("items").EnumerateArray().Select(d => d.GetProperty("event_id").GetString()));

        await ApiAssert.ErrorAsync(await _account.Test.GetAsync($"/v1/webhooks/{failingId}/deliveries?status=broken"), HttpStatusCode.BadRequest, "status");
        await ApiAssert.ErrorAsync(await _account.Test.GetAsync($"/v1/webhooks/{failingId}/deliveries?count=101"), HttpStatusCode.BadRequest, "count");
        await ApiAssert.ErrorAsync(await _account.Test.GetAsync($"/v1/webhooks/{failingId}/deliveries?count=0"), HttpStatusCode.BadRequest, "count");
    }

    [Fact]
    public async Task Another_account_sees_none_of_it()
    {
        var other = await _host.CreateAccountAsync("Globex", "ops@globex.test");
        var theirs = (await _host.PublishAsync(other.Id)).GetProperty("id").GetString()!;

        Assert.Equal([theirs], Ids(await other.Test.GetJsonAsync("/v1/events")));
        Assert.Equal([theirs], Ids(await other.Test.GetJsonAsync($"/v1/events?from={At(0)}&event=payment.captured")));
        Assert.Equal(0, (await _account.Live.GetJsonAsync("/v1/events")).GetProperty("count").GetInt32());
        Assert.DoesNotContain(theirs, Ids(await _account.Test.GetJsonAsync("/v1/events?count=100")));
        await ApiAssert.NotFoundAsync(await other.Test.GetAsync($"/v1/events/{_events[0]}"));
        await ApiAssert.NotFoundAsync(await _account.Live.GetAsync($"/v1/events/{_events[0]}"));
        await ApiAssert.NotFoundAsync(await other.Test.GetAsync($"/v1/webhooks/{_webhookId}/deliveries"));
        await ApiAssert.NotFoundAsync(await other.Test.GetAsync($"/v1/webhooks/{_webhookId}/deliveries?status=failed"));
        await ApiAssert.NotFoundAsync(await _account.Live.GetAsync($"/v1/webhooks/{_webhookId}/deliveries"));
        await ApiAssert.NotFoundAsync(await _account.Test.GetAsync("/v1/webhooks/wh_00000000000000/deliveries"));
    }

    private static IEnumerable<string?> Ids(JsonElement list) => list.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("id").GetString());

    private static object Payload(string name) => name.StartsWith("refund", StringComparison.Ordinal)
        ? new { refund = new { entity = new { id = "rfnd_" + Guid.NewGuid().ToString("N")[..14], entity = "refund", amount = 100 } } }
        : new { payment = new { entity = new { id = "pay_" + Guid.NewGuid().ToString("N")[..14], entity = "payment", amount = 50000 } } };
}
