using System.Net;
using System.Text.Json;
using Hookline.Server.Tests.Infrastructure;

namespace Hookline.Server.Tests.Api;

/// <summary>Another account's ids, and the other mode's ids, are 404 on every merchant route: never 403, never changed.</summary>
public sealed class TenantIsolationTests : IAsyncLifetime
{
    private HooklineHost _host = null!;
    private TestReceiver _receiver = null!;
    private TestAccount _owner = null!;
    private string _webhookId = null!;
    private string _eventId = null!;
    private string _deliveryId = null!;

    public async Task InitializeAsync()
    {
        _host = await HooklineHost.StartAsync();
        _receiver = await TestReceiver.StartAsync();
        _owner = await _host.CreateAccountAsync();
        _webhookId = (await _owner.CreateWebhookAsync(_receiver.Url.ToString(), secret: "generate")).GetProperty("id").GetString()!;
        _eventId = (await _host.PublishAsync(_owner.Id)).GetProperty("id").GetString()!;
        var evt = await _owner.Test.GetJsonAsync($"/v1/events/{_eventId}");
        _deliveryId = evt.GetProperty("deliveries")[0].GetProperty("id").GetString()!;
        await _receiver.WaitForAsync(1);
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    [Fact]
    public async Task Another_accounts_ids_are_404_on_every_merchant_route_and_nothing_changes()
    {
        var other = await _host.CreateAccountAsync("Globex", "ops@globex.test");
        var before = await _owner.Test.GetJsonAsync($"/v1/webhooks/{_webhookId}");

        await AssertInvisibleAsync(other.Test);
        await AssertInvisibleAsync(other.Live);

        var list = await other.Test.GetJsonAsync("/v1/webhooks");
        Assert.Equal(0, list.GetProperty("count").GetInt32());
        Assert.Equal(before.ToString(), (await _owner.Test.GetJsonAsync($"/v1/webhooks/{_webhookId}")).ToString());
    }

    [Fact]
    public async Task Live_key_cannot_see_the_same_accounts_test_mode_objects()
    {
        var before = await _owner.Test.GetJsonAsync($"/v1/webhooks/{_webhookId}");

        await AssertInvisibleAsync(_owner.Live);

        Assert.Equal(0, (await _owner.Live.GetJsonAsync("/v1/webhooks")).GetProperty("count").GetInt32());
        Assert.Equal(before.ToString(), (await _owner.Test.GetJsonAsync($"/v1/webhooks/{_webhookId}")).ToString());
        Assert.Equal(_eventId, (await _owner.Test.GetJsonAsync($"/v1/events/{_eventId}")).GetProperty("id").GetString());
        Assert.Equal(_deliveryId, (await _owner.Test.GetJsonAsync($"/v1/deliveries/{_deliveryId}")).GetProperty("id").GetString());
    }

    [Fact]
    public async Task Test_key_cannot_see_live_mode_objects()
    {
        var liveWebhook = (await _owner.CreateWebhookAsync(new Uri(_receiver.Url, "/live").ToString(), client: _owner.Live)).GetProperty("id").GetString()!;
        var liveEvent = (await _host.PublishAsync(_owner.Id, mode: "live")).GetProperty("id").GetString()!;
        var liveDelivery = (await _owner.Live.GetJsonAsync($"/v1/events/{liveEvent}")).GetProperty("deliveries")[0].GetProperty("id").GetString()!;

        await ApiAssert.NotFoundAsync(await _owner.Test.GetAsync($"/v1/webhooks/{liveWebhook}"));
        await ApiAssert.NotFoundAsync(await _owner.Test.PatchJsonAsync($"/v1/webhooks/{liveWebhook}", """{"active":false}"""));
        await ApiAssert.NotFoundAsync(await _owner.Test.DeleteAsync($"/v1/webhooks/{liveWebhook}"));
        await ApiAssert.NotFoundAsync(await _owner.Test.GetAsync($"/v1/events/{liveEvent}"));
        await ApiAssert.NotFoundAsync(await _owner.Test.GetAsync($"/v1/deliveries/{liveDelivery}"));
        Assert.True((await _owner.Live.GetJsonAsync($"/v1/webhooks/{liveWebhook}")).GetProperty("active").GetBoolean());
    }

    [Fact]
    public async Task Foreign_id_and_nonexistent_id_get_the_same_answer()
    {
        var other = await _host.CreateAccountAsync("Globex", "ops@globex.test");

        var foreign = await (await other.Test.GetAsync($"/v1/webhooks/{_webhookId}")).Content.ReadAsStringAsync();
        var missing = await (await other.Test.GetAsync("/v1/webhooks/wh_00000000000000")).Content.ReadAsStringAsync();

        Assert.Equal(missing, foreign);
    }

    private async Task AssertInvisibleAsync(HttpClient intruder)
    {
        foreach (var (method, path) in MerchantAuthTests.MerchantRoutes(_webhookId, _eventId, _deliveryId).Where(r => r.Path.Contains('_', StringComparison.Ordinal)))
        {
            var request = new HttpRequestMessage(method, path);
            if (method == HttpMethod.Patch)
            {
                request.Content = ApiRequests.Json(JsonSerializer.Serialize(new { url = new Uri(_receiver.Url, "/stolen").ToString(), active = false, secret = "stolen-secret-123" }));
            }

            var response = await intruder.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{method} {path} answered {(int)response.StatusCode}");
            await ApiAssert.NotFoundAsync(response);
        }
    }
}
