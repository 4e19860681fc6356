using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hookline.Core.Events;
using Hookline.Server.Tests.Api;
using Hookline.Server.Tests.Infrastructure;

namespace Hookline.Server.Tests.Sandbox;

/// <summary><c>Limits:ValidatePayloads</c>: unset validates test-mode payloads only; true both modes; false neither.</summary>
public sealed class PayloadValidationTests
{
    [Fact]
    public async Task Test_mode_payload_that_breaks_the_schema_is_refused_naming_the_first_failing_path()
    {
        await using var host = await StartAsync(null);
        var account = await host.CreateAccountAsync();

        var error = await ApiAssert.ErrorAsync(
            await host.Platform.PostJsonAsync("/v1/events", Body(account.Id, "test", "payment.captured", Broken("payment.captured", "payment", "amount", "500"))),
            HttpStatusCode.BadRequest, "payload.payment.entity.amount");
        Assert.Equal("The payload does not match the schema of payment.captured: payload.payment.entity.amount must be an integer.", error.GetProperty("description").GetString());
        Assert.Equal(0, await host.CountEventsAsync(account.Id));

        await ApiAssert.ErrorAsync(
            await host.Platform.PostJsonAsync("/v1/events", Body(account.Id, "test", "payment.authorized", Broken("payment.authorized", "payment", "status", "captured"))),
            HttpStatusCode.BadRequest, "payload.payment.entity.status");
        await ApiAssert.ErrorAsync(
            await host.Platform.PostJsonAsync("/v1/events", Body(account.Id, "test", "refund.processed", Broken("refund.processed", "refund", "speed", "fast"))),
            HttpStatusCode.BadRequest, "payload.refund.entity.speed");
        await ApiAssert.ErrorAsync(
            await host.Platform.PostJsonAsync("/v1/events", Body(account.Id, "test", "order.paid", Without("order.paid", "order"))),
            HttpStatusCode.BadRequest, "payload.order");
        Assert.Equal(0, await host.CountEventsAsync(account.Id));
    }

    [Fact]
    public async Task Catalogue_sample_is_accepted_in_test_mode()
    {
        await using var host = await StartAsync(null);
        var account = await host.CreateAccountAsync();
        foreach (var name in new[] { "payment.captured", "payout.reversed", "account.app.authorization_revoked", "account.instant_activation_gmv_limit_warning" })
        {
            var response = await host.Platform.PostJsonAsync("/v1/events", Body(account.Id, "test", name, EventCatalog.Default.Find(name)!.Sample));
            await ApiAssert.JsonAsync(response, HttpStatusCode.Created);
        }
    }

    [Fact]
    public async Task Batch_errors_name_the_event_and_the_path_inside_it()
    {
        await using var host = await StartAsync(null);
        var account = await host.CreateAccountAsync();
        var good = JsonNode.Parse(Body(account.Id, "test", "payment.captured", EventCatalog.Default.Find("payment.captured")!.Sample));
        var bad = JsonNode.Parse(Body(account.Id, "test", "refund.created", Broken("refund.created", "payment", "id", "order_Abc")));
        var batch = new JsonObject { ["events"] = new JsonArray(good, bad) }.ToJsonString();

        var error = await ApiAssert.ErrorAsync(await host.Platform.PostJsonAsync("/v1/events/batch", batch), HttpStatusCode.BadRequest, "events[1].payload.payment.entity.id");
        Assert.Contains("must match ^pay_", error.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await host.CountEventsAsync(account.Id));
    }

    [Fact]
    public async Task Live_mode_payloads_are_not_validated_unless_configured()
    {
        var broken = Broken("payment.captured", "payment", "amount", "500");
        await using (var host = await StartAsync(null))
        {
            var account = await host.CreateAccountAsync();
            await ApiAssert.JsonAsync(await host.Platform.PostJsonAsync("/v1/events", Body(account.Id, "live", "payment.captured", broken)), HttpStatusCode.Created);
        }

        await using (var host = await StartAsync("true"))
        {
            var account = await host.CreateAccountAsync();
            await ApiAssert.ErrorAsync(await host.Platform.PostJsonAsync("/v1/events", Body(account.Id, "live", "payment.captured", broken)), HttpStatusCode.BadRequest, "payload.payment.entity.amount");
        }

        await using (var host = await StartAsync("false"))
        {
            var account = await host.CreateAccountAsync();
            await ApiAssert.JsonAsync(await host.Platform.PostJsonAsync("/v1/events", Body(account.Id, "test", "payment.captured", broken)), HttpStatusCode.Created);
        }
    }

    private static Task<HooklineHost> StartAsync(string? validate)
        => HooklineHost.StartAsync(new Dictionary<string, string?> { ["Limits:ValidatePayloads"] = validate });

    private static string Body(string accountId, string mode, string name, JsonElement payload)
        => JsonSerializer.Serialize(new { account_id = accountId, mode, @event = name, payload });

    /// <summary>The catalogue sample of <paramref name="name"/> with one field of one entity replaced.</summary>
    private static JsonElement Broken(string name, string kind, string field, string value)
    {
        var payload = JsonNode.Parse(EventCatalog.Default.Find(name)!.Sample.GetRawText())!.AsObject();
        payload[kind]!["entity"]![field] = value;
        return JsonSerializer.SerializeToElement(payload);
    }

    private static JsonElement Without(string name, string kind)
    {
        var payload = JsonNode.Parse(EventCatalog.Default.Find(name)!.Sample.GetRawText())!.AsObject();
        payload.Remove(kind);
        return JsonSerializer.SerializeToElement(payload);
    }
}
