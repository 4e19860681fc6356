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

/// <summary>Razorpay's collection shape.</summary>
internal sealed record Collection<T>(IReadOnlyList<T> Items)
{
    public string Entity => "collection";

    public int Count => Items.Count;
}
