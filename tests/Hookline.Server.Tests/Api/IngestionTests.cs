using System.Net;
using System.Text.Json;
using Hookline.Core.Storage;
using Hookline.Server.Tests.Infrastructure;

namespace Hookline.Server.Tests.Api;

/// <summary><c>POST /v1/events</c> and <c>/v1/events/batch</c>: what an accepted event looks like, and what is refused.</summary>
public sealed class IngestionTests : IAsyncLifetime
{
    private HooklineHost _host = null!;
    private TestReceiver _receiver = null!;

    public async Task InitializeAsync()
    {
        _host = await HooklineHost.StartAsync(new Dictionary<string, string?> { ["Limits:MaxBatchEvents"] = "5" });
        _receiver = await TestReceiver.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    [Fact]
    public async Task Accepted_event_answers_201_with_its_id_and_counts_of_deliveries_and_skipped()
    {
        var account = await _host.CreateAccountAsync();
        await account.CreateWebhookAsync(new Uri(_receiver.Url, "/active").ToString());
        var inactive = await PostWebhookAsync(account.Test, new Uri(_receiver.Url, "/inactive").ToString(), active: false);
        Assert.False(inactive.GetProperty("active").GetBoolean());
        await account.CreateWebhookAsync(new Uri(_receiver.Url, "/other-event").ToString(), events: new[] { "payment.failed" });
        await account.CreateWebhookAsync(new Uri(_receiver.Url, "/live").ToString(), client: account.Live);
        var before = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds();

        var response = await _host.Platform.PostJsonAsync("/v1/events", ApiRequests.EventBody(account.Id));

        var created = await ApiAssert.JsonAsync(response, HttpStatusCode.Created);
        ApiAssert.IsId("evt_", created.GetProperty("id").GetString());
        Assert.Equal("event", created.GetProperty("entity").GetString());
        Assert.Equal(account.Id, created.GetProperty("account_id").GetString());
        Assert.Equal("test", created.GetProperty("mode").GetString());
        Assert.Equal("payment.captured", created.GetProperty("event").GetString());
        // Deliveries count every subscribed webhook of the account and mode; the disabled one is among them, as skipped.
        Assert.Equal(2, created.GetProperty("deliveries").GetInt32());
        Assert.Equal(1, created.GetProperty("skipped").GetInt32());
        var createdAt = created.GetProperty("created_at").GetInt64();
        Assert.InRange(createdAt, before - 1, TimeProvider.System.GetUtcNow().ToUnixTimeSeconds() + 1);

        // The answer came after the commit: the event is readable at once, with the same created_at.
        var stored = await _host.Get<IEventStore>().GetEventAsync(account.Id, "test", created.GetProperty("id").GetString()!, default);
        Assert.NotNull(stored);
        Assert.Equal(createdAt, stored.CreatedAt.ToUnixTimeSeconds());
        var deliveries = await _host.Get<IEventStore>().ListEventDeliveriesAsync(stored.Id, default);
        Assert.Equal(["pending-or-done", "skipped"], deliveries.Select(d => d.Status == "skipped" ? "skipped" : "pending-or-done").Order());
    }

    [Fact]
    public async Task Batch_is_committed_as_one_and_answers_a_collection_in_request_order()
    {
        var first = await _host.CreateAccountAsync();
        var second = await _host.CreateAccountAsync("Globex", "ops@globex.test");
        await first.CreateWebhookAsync(_receiver.Url.ToString(), events: new[] { "*" });
        var body = $$"""{"events":[{{ApiRequests.EventBody(first.Id)}},{{ApiRequests.EventBody(second.Id, "order.paid", "live")}},{{ApiRequests.EventBody(first.Id, "refund.processed")}}]}""";

        var collection = await ApiAssert.JsonAsync(await _host.Platform.PostJsonAsync("/v1/events/batch", body), HttpStatusCode.Created);

        Assert.Equal("collection", collection.GetProperty("entity").GetString());
        Assert.Equal(3, collection.GetProperty("count").GetInt32());
        var items = collection.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["payment.captured", "order.paid", "refund.processed"], items.Select(i => i.GetProperty("event").GetString()));
        Assert.Equal([first.Id, second.Id, first.Id], items.Select(i => i.GetProperty("account_id").GetString()));
        Assert.Equal([1, 0, 1], items.Select(i => i.GetProperty("deliveries").GetInt32()));
        Assert.All(items, i => ApiAssert.IsId("evt_", i.GetProperty("id").GetString()));
        Assert.Equal(3, items.Select(i => i.GetProperty("id").GetString()).Distinct().Count());
        Assert.Equal(2, await _host.CountEventsAsync(first.Id));
        Assert.Equal(1, await _host.CountEventsAsync(second.Id));
    }

    [Fact]
    public async Task Batch_whose_second_event_names_an_unknown_account_stores_nothing()
    {
        var account = await _host.CreateAccountAsync();
        await account.CreateWebhookAsync(_receiver.Url.ToString());
        var body = $$"""{"events":[{{ApiRequests.EventBody(account.Id)}},{{ApiRequests.EventBody("acc_00000000000000")}}]}""";

        var response = await _host.Platform.PostJsonAsync("/v1/events/batch", body);

        var error = await ApiAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "events[1].account_id");
        Assert.Contains("acc_00000000000000", error.GetProperty("description").GetString());
        Assert.Equal(0, await _host.CountEventsAsync(account.Id));
        Assert.Equal(0, (await _host.Get<IDeliveryStore>().CountDeliveriesAsync(default)).Values.Sum());
        Assert.Equal(0, _receiver.Count);
    }

    [Fact]
    public async Task Single_event_for_an_unknown_account_is_refused_naming_account_id()
    {
        var response = await _host.Platform.PostJsonAsync("/v1/events", ApiRequests.EventBody("acc_00000000000000"));

        await ApiAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "account_id");
        Assert.Equal(0, await _host.CountEventsAsync("acc_00000000000000"));
    }

    [Fact]
    public async Task Unknown_event_name_is_refused_with_Razorpays_message()
    {
        var account = await _host.CreateAccountAsync();

        var response = await _host.Platform.PostJsonAsync("/v1/events", ApiRequests.EventBody(account.Id, "payment.teleported"));

        await ApiAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "event", "Invalid event name/names: payment.teleported");
        Assert.Equal(0, await _host.CountEventsAsync(account.Id));
    }

    [Theory]
    [InlineData("PAYMENT.CAPTURED")]
    [InlineData(" payment.captured")]
    [InlineData("payment.captured\u0000")]
    [InlineData("payment.*")]
    [InlineData("*")]
    [InlineData("")]
    public async Task Event_names_that_are_not_exactly_a_catalogue_name_are_refused(string name)
    {
        var account = await _host.CreateAccountAsync();

        var response = await _host.Platform.PostJsonAsync("/v1/events", ApiRequests.EventBody(account.Id, name));

        var error = await ApiAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "event");
        if (name.Length > 0)
        {
            Assert.StartsWith("Invalid event name/names: ", error.GetProperty("description").GetString());
        }

        Assert.DoesNotContain("\u0000", error.GetProperty("description").GetString());
        Assert.Equal(0, await _host.CountEventsAsync(account.Id));
    }

    [Fact]
    public async Task Unknown_event_name_in_a_batch_names_its_index_and_stores_nothing()
    {
        var account = await _host.CreateAccountAsync();
        var body = $$"""{"events":[{{ApiRequests.EventBody(account.Id)}},{{ApiRequests.EventBody(account.Id, "payment.teleported")}}]}""";

        var response = await _host.Platform.PostJsonAsync("/v1/events/batch", body);

        await ApiAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "events[1].event", "Invalid event name/names: payment.teleported");
        Assert.Equal(0, await _host.CountEventsAsync(account.Id));
    }

    [Theory]
    [InlineData("{}", "events")]
    [InlineData("""{"events":[]}""", "events")]
    [InlineData("""{"events":{}}""", "events")]
    [InlineData("""{"events":null}""", "events")]
    [InlineData("""{"events":[EVENT],"extra":1}""", "extra")]
    [InlineData("""{"events":[EVENT,null]}""", "events[1]")]
    [InlineData("""{"events":[EVENT,"evt"]}""", "events[1]")]
    [InlineData("""{"events":[EVENT,{"account_id":"ACCOUNT","mode":"test","event":"payment.captured","payload":{},"id":"x"}]}""", "events[1].id")]
    [InlineData("""{"events":[EVENT,{"account_id":"ACCOUNT","mode":"test","event":"payment.captured"}]}""", "events[1].payload")]
    [InlineData("""{"events":[EVENT,{"account_id":"ACCOUNT","mode":"prod","event":"payment.captured","payload":{}}]}""", "events[1].mode")]
    [InlineData("""{"events":[EVENT,EVENT,EVENT,EVENT,EVENT,EVENT]}""", "events")]
    public async Task Malformed_batch_is_refused_naming_the_field_and_stores_nothing(string template, string field)
    {
        var account = await _host.CreateAccountAsync();
        var body = template.Replace("EVENT", ApiRequests.EventBody(account.Id), StringComparison.Ordinal).Replace("ACCOUNT", account.Id, StringComparison.Ordinal);

        var response = await _host.Platform.PostJsonAsync("/v1/events/batch", body);

        await ApiAssert.ErrorAsync(response, HttpStatusCode.BadRequest, field);
        Assert.Equal(0, await _host.CountEventsAsync(account.Id));
    }

    [Fact]
    public async Task Batch_at_the_configured_maximum_is_accepted()
    {
        var account = await _host.CreateAccountAsync();
        var body = $$"""{"events":[{{string.Join(",", Enumerable.Range(0, 5).Select(i => ApiRequests.EventBody(account.Id, note: $"n{i}")))}}]}""";

        var response = await _host.Platform.PostJsonAsync("/v1/events/batch", body);

        Assert.Equal(5, (await ApiAssert.JsonAsync(response, HttpStatusCode.Created)).GetProperty("count").GetInt32());
        Assert.Equal(5, await _host.CountEventsAsync(account.Id));
    }

    private static async Task<JsonElement> PostWebhookAsync(HttpClient client, string url, bool active)
    {
        var body = JsonSerializer.Serialize(new { url, events = new[] { "payment.captured" }, active });
        return await ApiAssert.JsonAsync(await client.PostJsonAsync("/v1/webhooks", body), HttpStatusCode.Created);
    }
}
