using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Hookline.Server.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Hookline.Server.Tests.Api;

/// <summary>
/// Webhook secrets and key secrets appear in exactly one API response, the one that created them, and
/// nowhere else: not in other responses, logs, receivers' requests or the database file (in hex and base64 too).
/// </summary>
public sealed class SecretsTests : IAsyncLifetime
{
    private readonly ConcurrentQueue<RecordedExchange> _exchanges = new();
    private readonly CapturingLoggerProvider _logs = new();
    private HooklineHost _host = null!;
    private TestReceiver _receiver = null!;

    public async Task InitializeAsync()
    {
        _host = await HooklineHost.StartAsync();
        _host.Get<ILoggerFactory>().AddProvider(_logs);
        _receiver = await TestReceiver.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    [Fact]
    public async Task Secrets_appear_only_in_the_response_that_created_them()
    {
        using var platform = RecordingHandler.Client(_exchanges, _host.BaseAddress, new AuthenticationHeaderValue("Bearer", HooklineHost.PlatformToken));
        var account = await ApiAssert.JsonAsync(await platform.PostJsonAsync("/v1/accounts", """{"name":"Acme","email":"ops@acme.test"}"""), HttpStatusCode.Created);
        var accountCreation = _exchanges.Count - 1;
        var accountId = account.GetProperty("id").GetString()!;
        var keys = account.GetProperty("keys").EnumerateArray().ToDictionary(k => k.GetProperty("mode").GetString()!, k => (Id: k.GetProperty("id").GetString()!, Secret: k.GetProperty("secret").GetString()!));
        using var test = Merchant(keys["test"]);
        using var live = Merchant(keys["live"]);
        var secrets = new List<(string What, string Secret, int? CreatedIn)>
        {
            ("test key secret", keys["test"].Secret, accountCreation),
            ("live key secret", keys["live"].Secret, accountCreation),
        };

        var generated = await CreateWebhookAsync(test, "/generated", "generate");
        secrets.Add(("generated webhook secret", generated.GetProperty("secret").GetString()!, _exchanges.Count - 1));
        const string given = "given-webhook-secret-0123";
        var rotatedId = (await CreateWebhookAsync(test, "/given", given)).GetProperty("id").GetString()!;
        secrets.Add(("given webhook secret", given, null));
        var liveWebhook = await CreateWebhookAsync(live, "/live", "generate");
        secrets.Add(("live webhook secret", liveWebhook.GetProperty("secret").GetString()!, _exchanges.Count - 1));

        var eventIds = new List<string>();
        foreach (var mode in new[] { "test", "test", "live" })
        {
            eventIds.Add((await ApiAssert.JsonAsync(await platform.PostJsonAsync("/v1/events", ApiRequests.EventBody(accountId, mode: mode, note: $"{eventIds.Count}")), HttpStatusCode.Created)).GetProperty("id").GetString()!);
        }

        await _receiver.WaitForAsync(5);
        var rotated = await ApiAssert.JsonAsync(await test.PatchJsonAsync($"/v1/webhooks/{rotatedId}", """{"secret":"generate"}"""), HttpStatusCode.OK);
        secrets.Add(("rotated webhook secret", rotated.GetProperty("secret").GetString()!, _exchanges.Count - 1));
        const string patched = "patched-webhook-secret-4567";
        await ApiAssert.JsonAsync(await test.PatchJsonAsync($"/v1/webhooks/{generated.GetProperty("id").GetString()}", $$"""{"secret":"{{patched}}"}"""), HttpStatusCode.OK);
        secrets.Add(("patched webhook secret", patched, null));
        var added = await ApiAssert.JsonAsync(await platform.PostJsonAsync($"/v1/accounts/{accountId}/keys", """{"mode":"test"}"""), HttpStatusCode.Created);
        secrets.Add(("added key secret", added.GetProperty("secret").GetString()!, _exchanges.Count - 1));

        // Everything a merchant or the platform can read afterwards, errors included.
        await ReadEverythingAsync(platform, test, live, accountId, eventIds);
        await test.PostJsonAsync("/v1/webhooks", JsonSerializer.Serialize(new { url = "ftp://127.0.0.1/x", events = new[] { "payment.captured" }, secret = "refused-secret-8901" }));
        await test.PatchJsonAsync($"/v1/webhooks/{rotatedId}", """{"url":"ftp://127.0.0.1/x","secret":"refused-secret-2345"}""");
        secrets.Add(("secret of a refused create", "refused-secret-8901", null));
        secrets.Add(("secret of a refused patch", "refused-secret-2345", null));
        using var wrong = Merchant((keys["test"].Id, keys["live"].Secret));
        await wrong.GetAsync("/v1/webhooks");

        var exchanges = _exchanges.ToList();
        Assert.True(exchanges.Count > 25, $"only {exchanges.Count} responses recorded");
        foreach (var (what, secret, createdIn) in secrets)
        {
            var forms = Forms(secret);
            var containing = exchanges.Select((e, i) => (e, i)).Where(x => forms.Any(f => x.e.Response.Contains(f, StringComparison.Ordinal))).ToList();
            Assert.True(
                containing.Select(x => x.i).SequenceEqual(createdIn is null ? [] : [createdIn.Value]),
                $"{what} appears in: {string.Join(", ", containing.Select(x => $"#{x.i} {x.e.Request}"))}");
            Assert.DoesNotContain(_logs.Lines, line => forms.Any(f => line.Contains(f, StringComparison.Ordinal)));
            Assert.DoesNotContain(_receiver.Requests, r => forms.Any(f => Encoding.UTF8.GetString(r.Body).Contains(f, StringComparison.Ordinal) || r.Headers.Values.Any(v => v.Contains(f, StringComparison.Ordinal))));
        }

        // At rest: webhook secrets are encrypted and key secrets hashed, so no form of them is in the files.
        var files = Directory.GetFiles(_host.DataDirectory, "hookline.db*").Select(ReadShared).ToList();
        Assert.NotEmpty(files);
        foreach (var (what, secret, _) in secrets.Where(s => !s.What.Contains("refused", StringComparison.Ordinal)))
        {
            Assert.False(files.Any(f => Forms(secret).Any(form => f.Contains(form, StringComparison.Ordinal))), $"{what} is stored in clear");
        }
    }

    private HttpClient Merchant((string Id, string Secret) key)
        => RecordingHandler.Client(_exchanges, _host.BaseAddress, new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{key.Id}:{key.Secret}"))));

    private async Task<JsonElement> CreateWebhookAsync(HttpClient client, string path, string secret)
    {
        var body = JsonSerializer.Serialize(new { url = new Uri(_receiver.Url, path).ToString(), events = new[] { "payment.captured" }, secret });
        return await ApiAssert.JsonAsync(await client.PostJsonAsync("/v1/webhooks", body), HttpStatusCode.Created);
    }

    private static async Task ReadEverythingAsync(HttpClient platform, HttpClient test, HttpClient live, string accountId, IEnumerable<string> eventIds)
    {
        await platform.GetAsync($"/v1/accounts/{accountId}");
        foreach (var client in new[] { test, live })
        {
            var webhooks = await client.GetJsonAsync("/v1/webhooks");
            foreach (var webhook in webhooks.GetProperty("items").EnumerateArray())
            {
                await client.GetAsync($"/v1/webhooks/{webhook.GetProperty("id").GetString()}");
            }

            foreach (var eventId in eventIds)
            {
                var response = await client.GetAsync($"/v1/events/{eventId}");
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    continue;
                }

                var evt = await response.Content.ReadFromJsonAsync<JsonElement>();
                foreach (var delivery in evt.GetProperty("deliveries").EnumerateArray())
                {
                    await client.GetAsync($"/v1/deliveries/{delivery.GetProperty("id").GetString()}");
                }
            }
        }

        await test.GetAsync("/v1/webhooks/wh_00000000000000");
    }

    /// <summary>The secret as typed, its UTF-8 bytes in hex and base64, for <c>whsec_</c> secrets the decoded key in hex; each also JSON-escaped.</summary>
    private static string[] Forms(string secret)
    {
        var bytes = Encoding.UTF8.GetBytes(secret);
        var forms = new List<string> { secret, Convert.ToHexStringLower(bytes), Convert.ToHexString(bytes), Convert.ToBase64String(bytes) };
        if (secret.StartsWith("whsec_", StringComparison.Ordinal))
        {
            var key = Convert.FromBase64String(secret["whsec_".Length..]);
            forms.AddRange([secret["whsec_".Length..], Convert.ToHexStringLower(key), Convert.ToHexString(key)]);
        }

        // JSON writers escape some characters of base64 ('+' becomes \u002B), so look for the escaped text too.
        return [.. forms.Concat(forms.Select(f => JsonSerializer.Serialize(f)[1..^1])).Distinct()];
    }

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return Encoding.Latin1.GetString(buffer.ToArray());
    }
}
