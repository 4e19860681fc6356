using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Hookline.Server.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace Hookline.Server.Tests.Api;

internal static class ApiAssert
{
    private static readonly string[] ErrorFields = ["code", "description", "field", "source", "reason", "metadata"];

    /// <summary>Asserts Razorpay's error shape and status, and that <c>field</c> is exactly <paramref name="field"/> (null: JSON null).</summary>
    public static async Task<JsonElement> ErrorAsync(HttpResponseMessage response, HttpStatusCode status, string? field, string? description = null)
    {
        var error = await ErrorAsync(response, status);
        Assert.True(
            field is null ? error.GetProperty("field").ValueKind == JsonValueKind.Null : error.GetProperty("field").GetString() == field,
            $"expected field {field ?? "null"}: {error}");
        if (description is not null)
        {
            Assert.Equal(description, error.GetProperty("description").GetString());
        }

        return error;
    }

    /// <summary>Asserts Razorpay's error shape and status, whatever the field.</summary>
    public static async Task<JsonElement> ErrorAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(text);
        var root = document.RootElement;
        Assert.Equal(["error"], root.EnumerateObject().Select(p => p.Name));
        var error = root.GetProperty("error");
        Assert.Equal(ErrorFields, error.EnumerateObject().Select(p => p.Name));
        Assert.Equal("BAD_REQUEST_ERROR", error.GetProperty("code").GetString());
        Assert.Equal("business", error.GetProperty("source").GetString());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("description").GetString()));
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("reason").GetString()));
        Assert.Equal(JsonValueKind.Object, error.GetProperty("metadata").ValueKind);
        return error.Clone();
    }

    public static Task<JsonElement> UnauthorizedAsync(HttpResponseMessage response)
        => ErrorAsync(response, HttpStatusCode.Unauthorized, null, "Authentication failed");

    public static Task<JsonElement> NotFoundAsync(HttpResponseMessage response)
        => ErrorAsync(response, HttpStatusCode.NotFound, null);

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    public static void IsId(string prefix, string? id)
    {
        Assert.NotNull(id);
        Assert.StartsWith(prefix, id);
        Assert.Equal(14, id.Length - prefix.Length);
        Assert.All(id[prefix.Length..], c => Assert.True(char.IsAsciiLetterOrDigit(c), id));
    }
}

internal static class ApiRequests
{
    public static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    public static HttpClient Anonymous(this HooklineHost host) => new() { BaseAddress = host.BaseAddress };

    public static HttpClient WithAuthorization(this HooklineHost host, string scheme, string parameter)
    {
        var client = host.Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(scheme, parameter);
        return client;
    }

    public static HttpClient WithBasic(this HooklineHost host, string user, string password)
        => host.WithAuthorization("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string path, string body, string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = Json(body) };
        if (idempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        }

        return client.SendAsync(request);
    }

    public static Task<HttpResponseMessage> PatchJsonAsync(this HttpClient client, string path, string body)
        => client.SendAsync(new HttpRequestMessage(HttpMethod.Patch, path) { Content = Json(body) });

    /// <summary>One valid ingestion request body; <paramref name="note"/> varies it.</summary>
    public static string EventBody(string accountId, string eventName = "payment.captured", string mode = "test", string note = "n")
        => JsonSerializer.Serialize(new
        {
            account_id = accountId,
            mode,
            @event = eventName,
            payload = new { payment = new { entity = new { id = "pay_29QQoUBi66xm2f", entity = "payment", amount = 50000, notes = new { note } } } },
        });
}

internal static class StoredRows
{
    /// <summary>
    /// Counts the account's stored events straight from the SQLite file: the store's ports have no "list
    /// events" query, and "nothing was stored" must not depend on the API that is under test.
    /// </summary>
    public static async Task<long> CountEventsAsync(this HooklineHost host, string accountId)
    {
        await using var connection = await host.OpenDatabaseAsync(SqliteOpenMode.ReadOnly);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM events WHERE account_id = $a";
        command.Parameters.AddWithValue("$a", accountId);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
