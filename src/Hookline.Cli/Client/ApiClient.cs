using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Hookline.Cli.Client;

/// <summary>An answer of the API that is not 2xx, with Razorpay's error description and field.</summary>
internal sealed class ApiError(int status, string description, string? field) : Exception(description)
{
    public int Status { get; } = status;

    public string? Field { get; } = field;
}

/// <summary>A thin client of the merchant API: HTTP Basic with the key, JSON in and out, errors as <see cref="ApiError"/>.</summary>
internal sealed class ApiClient(HttpClient http) : IDisposable
{
    public Uri Server => http.BaseAddress!;

    public static ApiClient Create(string server, string key)
    {
        if (!Uri.TryCreate(server, UriKind.Absolute, out var address) || address.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"The server must be an http(s) URL, not {server}.");
        }

        if (key.IndexOf(':', StringComparison.Ordinal) <= 0)
        {
            throw new ArgumentException("The key must be key_id:key_secret.");
        }

        var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(key)));
        http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("hookline-cli", "1"));
        return new ApiClient(http);
    }

    public Task<JsonElement> GetAsync(string path, CancellationToken cancellationToken)
        => SendAsync(new HttpRequestMessage(HttpMethod.Get, path), cancellationToken);

    public Task<JsonElement> PostAsync(string path, object? body, CancellationToken cancellationToken)
        => SendAsync(new HttpRequestMessage(HttpMethod.Post, path) { Content = body is null ? null : JsonContent.Create(body) }, cancellationToken);

    public Task<JsonElement> PatchAsync(string path, object body, CancellationToken cancellationToken)
        => SendAsync(new HttpRequestMessage(HttpMethod.Patch, path) { Content = JsonContent.Create(body) }, cancellationToken);

    public Task<JsonElement> DeleteAsync(string path, CancellationToken cancellationToken)
        => SendAsync(new HttpRequestMessage(HttpMethod.Delete, path), cancellationToken);

    public void Dispose() => http.Dispose();

    private async Task<JsonElement> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using (request)
        {
            using var response = await http.SendAsync(request, cancellationToken);
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            JsonElement json = default;
            try
            {
                json = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
            }
            catch (JsonException)
            {
                // A proxy's HTML error page or an empty body: reported below with the status code.
            }

            if (response.IsSuccessStatusCode)
            {
                return json;
            }

            if (json.ValueKind == JsonValueKind.Object && json.TryGetProperty("error", out var error) && error.TryGetProperty("description", out var description))
            {
                var field = error.TryGetProperty("field", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
                throw new ApiError((int)response.StatusCode, description.GetString() ?? "", field);
            }

            throw new ApiError((int)response.StatusCode, $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}", null);
        }
    }
}
