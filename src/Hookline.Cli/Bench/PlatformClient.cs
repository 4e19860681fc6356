using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Hookline.Cli.Bench;

/// <summary>An accepted ingestion request: the event ids (without <c>evt_</c>) and the deliveries it created.</summary>
internal sealed record Accepted(IReadOnlyList<string> EventIds, int Deliveries);

/// <summary>
/// Talks to the Hookline under test the way a platform and a merchant do: the public HTTP API only, so the
/// bench measures the same path production traffic takes (auth, parsing, the committed 201).
/// </summary>
internal sealed class PlatformClient : IDisposable
{
    public const string PlatformToken = "hlp_bench_platform_token_0123456789";
    private readonly HttpClient _http;

    public PlatformClient(Uri baseAddress)
    {
        _http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 512, UseProxy = false, UseCookies = false })
        {
            BaseAddress = baseAddress,
            Timeout = TimeSpan.FromSeconds(30),
        };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", PlatformToken);
    }

    /// <summary>Creates an account and returns its id and a merchant client for its live mode.</summary>
    public async Task<(string AccountId, HttpClient Merchant)> CreateAccountAsync(CancellationToken cancellationToken)
    {
        using var response = await _http.PostAsJsonAsync("/v1/accounts", new { name = "Bench", email = "bench@example.test" }, cancellationToken);
        response.EnsureSuccessStatusCode();
        var json = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        var key = json.GetProperty("keys").EnumerateArray().First(k => k.GetProperty("mode").GetString() == "live");
        var merchant = new HttpClient { BaseAddress = _http.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        var credentials = $"{key.GetProperty("id").GetString()}:{key.GetProperty("secret").GetString()}";
        merchant.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        return (json.GetProperty("id").GetString()!, merchant);
    }

    /// <summary>Registers a webhook with a generated secret, so every delivery is signed as in production.</summary>
    public static async Task CreateWebhookAsync(HttpClient merchant, string url, CancellationToken cancellationToken)
    {
        using var response = await merchant.PostAsJsonAsync("/v1/webhooks", new { url, events = new[] { BenchPayload.EventName }, secret = "generate" }, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"Creating a webhook failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }
    }

    /// <summary>
    /// Posts one prepared ingestion body (<paramref name="batch"/> picks the route). Null when the server did not
    /// answer 201: refused, or cut off (the crash scenario), in which case the events may or may not exist.
    /// </summary>
    public async Task<Accepted?> IngestAsync(byte[] body, bool batch, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await _http.PostAsync(batch ? "/v1/events/batch" : "/v1/events", content, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            LastRefusal = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}";
            return null;
        }

        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        return Parse(bytes);
    }

    /// <summary>The status and body of the last answer other than 201, for the error when nothing is accepted.</summary>
    public string? LastRefusal { get; private set; }

    public void Dispose() => _http.Dispose();

    private static Accepted Parse(byte[] json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var ids = new List<string>();
        var deliveries = 0;
        if (root.TryGetProperty("items", out var items))
        {
            foreach (var item in items.EnumerateArray())
            {
                Add(item);
            }
        }
        else
        {
            Add(root);
        }

        return new Accepted(ids, deliveries);

        void Add(JsonElement item)
        {
            ids.Add(item.GetProperty("id").GetString()!["evt_".Length..]);
            deliveries += item.GetProperty("deliveries").GetInt32() - item.GetProperty("skipped").GetInt32();
        }
    }
}

/// <summary>Stopwatch ticks to milliseconds and seconds.</summary>
internal static class Ticks
{
    public static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    public static double Seconds(long ticks) => (double)ticks / Stopwatch.Frequency;

    public static double SinceSeconds(long start) => Seconds(Stopwatch.GetTimestamp() - start);
}
