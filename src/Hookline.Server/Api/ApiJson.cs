using System.Text.Json;
using System.Text.Json.Serialization;

namespace Hookline.Server.Api;

internal static class ApiJson
{
    public static readonly JsonSerializerOptions Options = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        return options;
    }

    public static long? Seconds(DateTimeOffset? time) => time?.ToUnixTimeSeconds();

    public static long Seconds(DateTimeOffset time) => time.ToUnixTimeSeconds();
}

/// <summary>Razorpay's collection shape, keys in Razorpay's order: entity, count, items.</summary>
internal sealed record Collection<T>([property: JsonPropertyOrder(3)] IReadOnlyList<T> Items)
{
    [JsonPropertyOrder(1)]
    public string Entity => "collection";

    [JsonPropertyOrder(2)]
    public int Count => Items.Count;
}
