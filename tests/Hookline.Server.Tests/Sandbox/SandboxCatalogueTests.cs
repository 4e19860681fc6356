using System.Text.Json;
using Hookline.Core.Events;
using Hookline.Server.Tests.Infrastructure;
using Hookline.Tests.Catalog;

namespace Hookline.Server.Tests.Sandbox;

/// <summary>
/// Every catalogue event can be triggered, and everything the sandbox publishes reaches the merchant's
/// endpoints as a payload that satisfies the event's schema and Razorpay's entity fields and types.
/// </summary>
public sealed class SandboxCatalogueTests
{
    private static readonly string[] FlatPayloadKeys = ["acc_id", "gmv_limit", "current_gmv", "message"];

    [Fact]
    public async Task Every_catalogue_event_is_triggered_and_each_delivered_payload_satisfies_its_schema_and_Razorpay_entities()
    {
        // The server's own default: test-mode payloads are validated, so a bad sandbox payload could not even be ingested.
        await using var host = await HooklineHost.StartAsync(new Dictionary<string, string?> { ["Limits:ValidatePayloads"] = null });
        await using var receiver = await TestReceiver.StartAsync();
        var account = await host.CreateAccountAsync();
        await account.CreateWebhookAsync(new Uri(receiver.Url, "/payments").ToString(), new[] { "*" });
        await account.CreateWebhookAsync(new Uri(receiver.Url, "/payouts").ToString(), new[] { "*" }, product: "payouts");

        var published = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var type in EventCatalog.Default.All)
        {
            var items = await TriggerIdsAsync(account.Test, type.Name);
            Assert.True(items.Count > 0, type.Name);
            Assert.Equal(type.Name, items[^1].Event);
            foreach (var (id, name) in items)
            {
                published.Add(id, name);
            }
        }

        Assert.Equal(EventCatalog.Default.All.Select(t => t.Name).Order(), published.Values.Distinct().Order());
        await receiver.WaitForAsync(published.Count, TimeSpan.FromSeconds(60));

        var entities = RazorpayEntities.Load();
        var received = new HashSet<string>(StringComparer.Ordinal);
        foreach (var request in receiver.Requests)
        {
            var eventId = request.Header("webhook-id");
            Assert.True(published.TryGetValue(eventId, out var name), $"unexpected event {eventId}");
            received.Add(eventId);
            var type = EventCatalog.Default.Find(name)!;
            Assert.Equal(type.Product == "payouts" ? "/payouts" : "/payments", request.Path);

            using var document = JsonDocument.Parse(request.Body);
            var envelope = document.RootElement;
            Assert.Equal(["entity", "account_id", "event", "contains", "payload", "created_at"], envelope.EnumerateObject().Select(p => p.Name));
            Assert.Equal(account.Id, envelope.GetProperty("account_id").GetString());
            Assert.Equal(name, envelope.GetProperty("event").GetString());
            var payload = envelope.GetProperty("payload");
            Assert.Equal(payload.EnumerateObject().Select(p => p.Name), envelope.GetProperty("contains").EnumerateArray().Select(c => c.GetString()));

            var violation = type.Validate(payload);
            Assert.True(violation is null, $"{name}: {violation}");
            var notEntities = new List<string>();
            var problems = entities.Check(payload, notEntities);
            Assert.True(problems.Count == 0, $"{name}: {string.Join("; ", problems)}");
            Assert.All(notEntities, key => Assert.Contains(key, FlatPayloadKeys));
        }

        Assert.Equal(published.Keys.Order(), received.Order());
    }

    private static async Task<List<(string Id, string Event)>> TriggerIdsAsync(HttpClient merchant, string name)
    {
        var response = await Api.ApiAssert.JsonAsync(await merchant.TriggerRawAsync(JsonSerializer.Serialize(new { @event = name })), System.Net.HttpStatusCode.Created);
        return [.. response.GetProperty("items").EnumerateArray().Select(i => (i.GetProperty("id").GetString()!, i.GetProperty("event").GetString()!))];
    }
}
