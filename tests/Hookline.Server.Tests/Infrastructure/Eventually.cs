using System.Net.Http.Json;
using System.Text.Json;

namespace Hookline.Server.Tests.Infrastructure;

internal static class Eventually
{
    /// <summary>Polls a condition until it holds or the (generous) timeout passes; never a fixed sleep.</summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan? timeout = null, string? what = null)
    {
        var until = Environment.TickCount64 + (long)(timeout ?? TimeSpan.FromSeconds(20)).TotalMilliseconds;
        while (true)
        {
            var value = await probe();
            if (done(value))
            {
                return value;
            }

            if (Environment.TickCount64 > until)
            {
                throw new TimeoutException($"Condition not reached: {what ?? "(unnamed)"}; last value: {value}");
            }

            await Task.Delay(15);
        }
    }
}

internal static class MerchantApi
{
    public static async Task<JsonElement> GetJsonAsync(this HttpClient client, string path)
    {
        var response = await client.GetAsync(path);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {json}");
        return json;
    }

    /// <summary>The delivery of <paramref name="eventId"/> (the first, or the one to <paramref name="webhookId"/>) with its attempts.</summary>
    public static async Task<JsonElement> DeliveryAsync(this HttpClient client, string eventId, string? webhookId = null)
    {
        var evt = await client.GetJsonAsync($"/v1/events/{eventId}");
        var delivery = evt.GetProperty("deliveries").EnumerateArray().First(d => webhookId is null || d.GetProperty("webhook_id").GetString() == webhookId);
        return await client.GetJsonAsync($"/v1/deliveries/{delivery.GetProperty("id").GetString()}");
    }

    /// <summary>Waits until the delivery has recorded <paramref name="attempts"/> attempts (or more).</summary>
    public static Task<JsonElement> DeliveryAfterAttemptsAsync(this HttpClient client, string eventId, int attempts, string? webhookId = null)
        => Eventually.UntilAsync(() => client.DeliveryAsync(eventId, webhookId), d => d.GetProperty("attempt_count").GetInt32() >= attempts, what: $"{attempts} attempts recorded");

    public static Task<JsonElement> DeliveryWithStatusAsync(this HttpClient client, string eventId, string status, string? webhookId = null)
        => Eventually.UntilAsync(() => client.DeliveryAsync(eventId, webhookId), d => d.GetProperty("status").GetString() == status, what: $"delivery {status}");
}
