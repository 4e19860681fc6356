using System.Net;
using System.Text.Json;
using Hookline.Server.Tests.Api;
using Hookline.Server.Tests.Infrastructure;

namespace Hookline.Server.Tests.Sandbox;

/// <summary>One event a trigger published, as the API lists it, with its stored envelope.</summary>
internal sealed record Published(string Id, string Event, IReadOnlyDictionary<string, string> Entities, JsonElement Envelope)
{
    public JsonElement Entity(string kind) => Envelope.GetProperty("payload").GetProperty(kind).GetProperty("entity");

    public string Status(string kind) => Entity(kind).GetProperty("status").GetString()!;
}

internal static class SandboxClient
{
    /// <summary>Triggers <paramref name="eventName"/> and returns what it published, in order, with each stored envelope.</summary>
    public static async Task<List<Published>> TriggerAsync(this HttpClient merchant, string eventName, object? options = null)
    {
        var body = new Dictionary<string, object?> { ["event"] = eventName };
        foreach (var property in JsonSerializer.SerializeToElement(options ?? new { }).EnumerateObject())
        {
            body[property.Name] = property.Value;
        }

        var answer = await ApiAssert.JsonAsync(await merchant.PostJsonAsync("/v1/sandbox/trigger", JsonSerializer.Serialize(body)), HttpStatusCode.Created);
        Assert.Equal("collection", answer.GetProperty("entity").GetString());
        var published = new List<Published>();
        foreach (var item in answer.GetProperty("items").EnumerateArray())
        {
            var id = item.GetProperty("id").GetString()!;
            ApiAssert.IsId("evt_", id);
            var stored = await merchant.GetJsonAsync($"/v1/events/{id}");
            var entities = item.GetProperty("entities").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
            published.Add(new Published(id, item.GetProperty("event").GetString()!, entities, stored.GetProperty("envelope").Clone()));
        }

        Assert.Equal(answer.GetProperty("count").GetInt32(), published.Count);
        return published;
    }

    public static Task<HttpResponseMessage> TriggerRawAsync(this HttpClient merchant, string body)
        => merchant.PostJsonAsync("/v1/sandbox/trigger", body);
}
