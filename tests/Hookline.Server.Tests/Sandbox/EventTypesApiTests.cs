using System.Net;
using System.Text.Json;
using Hookline.Core.Events;
using Hookline.Server.Tests.Api;
using Hookline.Server.Tests.Infrastructure;

namespace Hookline.Server.Tests.Sandbox;

/// <summary>The catalogue over the API, unknown event names refused everywhere, and test fires that send the catalogue's samples.</summary>
public sealed class EventTypesApiTests : IAsyncLifetime
{
    private HooklineHost _host = null!;
    private TestAccount _account = null!;

    public async Task InitializeAsync()
    {
        _host = await HooklineHost.StartAsync();
        _account = await _host.CreateAccountAsync();
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Event_types_are_listed_by_product_in_pages()
    {
        var payouts = await _account.Test.GetJsonAsync("/v1/event_types?product=payouts&count=100");
        Assert.Equal(21, payouts.GetProperty("count").GetInt32());
        var first = payouts.GetProperty("items")[0];
        Assert.Equal(["name", "entity", "product", "group", "contains", "description"], first.EnumerateObject().Select(p => p.Name));
        Assert.All(payouts.GetProperty("items").EnumerateArray(), t => Assert.Equal("payouts", t.GetProperty("product").GetString()));

        var names = new List<string>();
        for (var skip = 0; ; skip += 100)
        {
            var page = await _account.Live.GetJsonAsync($"/v1/event_types?count=100&skip={skip}");
            names.AddRange(page.GetProperty("items").EnumerateArray().Select(t => t.GetProperty("name").GetString()!));
            if (page.GetProperty("count").GetInt32() < 100)
            {
                break;
            }
        }

        Assert.Equal(EventCatalog.Default.All.Select(t => t.Name), names);
        Assert.Equal(10, (await _account.Test.GetJsonAsync("/v1/event_types")).GetProperty("count").GetInt32());
        await ApiAssert.ErrorAsync(await _account.Test.GetAsync("/v1/event_types?product=banking"), HttpStatusCode.BadRequest, "product");
        await ApiAssert.UnauthorizedAsync(await _host.Anonymous().GetAsync("/v1/event_types"));
    }

    [Fact]
    public async Task Event_type_carries_its_self_contained_schema_and_sample()
    {
        var type = await _account.Test.GetJsonAsync("/v1/event_types/refund.processed");
        Assert.Equal(["refund", "payment"], type.GetProperty("contains").EnumerateArray().Select(c => c.GetString()));
        Assert.DoesNotContain("$ref", type.GetProperty("schema").GetRawText(), StringComparison.Ordinal);
        Assert.True(JsonElement.DeepEquals(EventCatalog.Default.Find("refund.processed")!.Sample, type.GetProperty("sample")));
        await ApiAssert.NotFoundAsync(await _account.Test.GetAsync("/v1/event_types/refund.exploded"));
    }

    [Fact]
    public async Task Unknown_event_names_are_refused_at_webhook_creation_update_and_ingestion_with_Razorpay_text()
    {
        await ApiAssert.ErrorAsync(
            await _account.Test.PostJsonAsync("/v1/webhooks", """{"url":"http://127.0.0.1/in","events":["payment.captured","payment.exploded","payout.processed"]}"""),
            HttpStatusCode.BadRequest, "events", "Invalid event name/names: payment.exploded, payout.processed");
        var webhook = await _account.CreateWebhookAsync("http://127.0.0.1/in");
        await ApiAssert.ErrorAsync(
            await _account.Test.PatchJsonAsync($"/v1/webhooks/{webhook.GetProperty("id").GetString()}", """{"events":["order.shipped"]}"""),
            HttpStatusCode.BadRequest, "events", "Invalid event name/names: order.shipped");

        await ApiAssert.ErrorAsync(
            await _host.Platform.PostJsonAsync("/v1/events", $$$"""{"account_id":"{{{_account.Id}}}","mode":"test","event":"payment.exploded","payload":{}}"""),
            HttpStatusCode.BadRequest, "event", "Invalid event name/names: payment.exploded");
        await ApiAssert.ErrorAsync(
            await _host.Platform.PostJsonAsync("/v1/events/batch", $$$"""{"events":[{"account_id":"{{{_account.Id}}}","mode":"live","event":"refund.exploded","payload":{}}]}"""),
            HttpStatusCode.BadRequest, "events[0].event", "Invalid event name/names: refund.exploded");
        Assert.Equal(0, await _host.CountEventsAsync(_account.Id));
    }

    [Fact]
    public async Task Test_fire_sends_the_catalogue_sample_of_the_event()
    {
        await using var receiver = await TestReceiver.StartAsync();
        var webhook = await _account.CreateWebhookAsync(new Uri(receiver.Url, "/hooks").ToString());

        await ApiAssert.JsonAsync(
            await _account.Test.PostJsonAsync($"/v1/webhooks/{webhook.GetProperty("id").GetString()}/test", """{"event":"payment.dispute.won"}"""), HttpStatusCode.Created);

        await receiver.WaitForAsync(1);
        using var body = JsonDocument.Parse(receiver.Requests[0].Body);
        var sample = EventCatalog.Default.Find("payment.dispute.won")!.Sample;
        Assert.True(JsonElement.DeepEquals(sample, body.RootElement.GetProperty("payload")));
        Assert.Equal(["payment", "dispute"], body.RootElement.GetProperty("contains").EnumerateArray().Select(c => c.GetString()));
    }
}
