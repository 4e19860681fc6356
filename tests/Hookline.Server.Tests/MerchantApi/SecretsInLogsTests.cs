using System.Net;
using System.Text;
using System.Text.Json;
using Hookline.Server.Tests.Api;
using Hookline.Server.Tests.Infrastructure;
using Hookline.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Hookline.Server.Tests.MerchantApi;

/// <summary>
/// Every log line the host writes, at every level and from the first line of start-up, through a scenario
/// that handles every kind of secret (webhook secrets given, generated, rotated and removed; key secrets
/// right and wrong; failures, retries, replays, test fires, lockouts), holds none of them in text, hex or base64.
/// </summary>
public sealed class SecretsInLogsTests : IAsyncLifetime
{
    private const string Given = "logs-given-webhook-secret-01";
    private const string Rotated = "logs-rotated-webhook-secret-02";
    private readonly ManualTimeProvider _clock = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly CapturingLoggerProvider _logs = new();
    private HooklineHost _host = null!;
    private TestReceiver _receiver = null!;

    public async Task InitializeAsync()
    {
        _host = await HooklineHost.StartAsync(
            new Dictionary<string, string?> { ["Delivery:RetryBaseDelay"] = "00:00:10", ["Limits:AuthFailures"] = "5" },
            time: _clock,
            jitter: new FixedJitter(0.5),
            configure: builder =>
            {
                builder.Logging.AddProvider(_logs);
                // Everything, whatever the host's own filters say: a secret at Trace level is still a leak.
                builder.Logging.AddFilter<CapturingLoggerProvider>(null, LogLevel.Trace);
            });
        _receiver = await TestReceiver.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }

    [Fact]
    public async Task No_log_line_contains_a_webhook_secret_or_key_secret_in_any_encoding()
    {
        var failing = true;
        _receiver.Handler = async (_, context) =>
        {
            context.Response.StatusCode = Volatile.Read(ref failing) ? 500 : 200;
            // A receiver that echoes what it got: the signature is in our response excerpt, never a secret.
            await context.Response.WriteAsync(context.Request.Headers["X-Razorpay-Signature"].ToString());
        };
        var account = await ApiAssert.JsonAsync(await _host.Platform.PostJsonAsync("/v1/accounts", """{"name":"Acme","email":"ops@acme.test"}"""), HttpStatusCode.Created);
        var accountId = account.GetProperty("id").GetString()!;
        var keys = account.GetProperty("keys").EnumerateArray().Select(k => (Id: k.GetProperty("id").GetString()!, Secret: k.GetProperty("secret").GetString()!)).ToList();
        var secrets = keys.Select(k => k.Secret).ToList();
        var credentials = keys.ToList();
        var testKey = keys.Single(k => k.Id.StartsWith("hk_test_", StringComparison.Ordinal));
        using var merchant = _host.Merchant(testKey);
        var added = await ApiAssert.JsonAsync(await _host.Platform.PostJsonAsync($"/v1/accounts/{accountId}/keys", """{"mode":"test"}"""), HttpStatusCode.Created);
        secrets.Add(added.GetProperty("secret").GetString()!);
        credentials.Add((added.GetProperty("id").GetString()!, added.GetProperty("secret").GetString()!));

        var givenId = (await CreateAsync(merchant, "/given", Given)).GetProperty("id").GetString()!;
        secrets.Add(Given);
        var generated = await CreateAsync(merchant, "/generated", "generate");
        secrets.Add(generated.GetProperty("secret").GetString()!);
        var generatedId = generated.GetProperty("id").GetString()!;

        var first = await PublishAsync(accountId);
        await merchant.DeliveryAfterAttemptsAsync(first, 1, givenId);
        await merchant.DeliveryAfterAttemptsAsync(first, 1, generatedId);
        await ApiAssert.JsonAsync(await merchant.PatchJsonAsync($"/v1/webhooks/{givenId}", $$"""{"secret":"{{Rotated}}"}"""), HttpStatusCode.OK);
        secrets.Add(Rotated);
        var regenerated = await ApiAssert.JsonAsync(await merchant.PatchJsonAsync($"/v1/webhooks/{generatedId}", """{"secret":"generate"}"""), HttpStatusCode.OK);
        secrets.Add(regenerated.GetProperty("secret").GetString()!);
        var second = await PublishAsync(accountId);

        // Time moves only when no attempt is in flight: an attempt's budget runs on this clock too.
        await AllAttemptedAsync(merchant, [first, second], 1);
        _clock.Advance(TimeSpan.FromSeconds(10));
        await AllAttemptedAsync(merchant, [first, second], 2);
        Volatile.Write(ref failing, false);
        _clock.Advance(TimeSpan.FromSeconds(20));
        await AllAttemptedAsync(merchant, [first, second], 3);
        await merchant.DeliveryWithStatusAsync(first, "succeeded", givenId);
        await merchant.DeliveryWithStatusAsync(second, "succeeded", givenId);
        await ApiAssert.JsonAsync(await merchant.PostJsonAsync($"/v1/events/{first}/replay", "{}"), HttpStatusCode.Accepted);
        var fired = await ApiAssert.JsonAsync(await merchant.PostJsonAsync($"/v1/webhooks/{givenId}/test", """{"event":"refund.processed"}"""), HttpStatusCode.Created);
        await ApiAssert.JsonAsync(await merchant.PatchJsonAsync($"/v1/webhooks/{givenId}", """{"secret":null}"""), HttpStatusCode.OK);
        await merchant.GetJsonAsync($"/v1/webhooks/{givenId}/audit");
        await AllAttemptedAsync(merchant, [first], 4);
        await AllAttemptedAsync(merchant, [fired.GetProperty("id").GetString()!], 1);

        // Refused secrets, wrong credentials (a real secret with the wrong key id among them) and a lockout.
        await merchant.PostJsonAsync("/v1/webhooks", JsonSerializer.Serialize(new { url = "ftp://example.com/", events = new[] { "payment.captured" }, secret = "logs-refused-secret-03" }));
        secrets.Add("logs-refused-secret-03");
        var liveKey = keys.Single(k => k.Id.StartsWith("hk_live_", StringComparison.Ordinal));
        for (var i = 0; i < 6; i++)
        {
            using var wrong = _host.WithBasic(testKey.Id, i % 2 == 0 ? liveKey.Secret : testKey.Secret + "x");
            await wrong.GetAsync("/v1/webhooks");
        }

        using var wrongPlatform = _host.WithAuthorization("Bearer", testKey.Secret);
        await wrongPlatform.GetAsync($"/v1/accounts/{accountId}");
        _clock.Advance(TimeSpan.FromMinutes(10));
        await merchant.GetJsonAsync("/v1/events");
        await _host.DisposeAsync();
        _host = null!;

        var lines = _logs.Lines.ToList();
        // The capture saw start-up, the worker and request handling, so an empty or partial log cannot pass.
        Assert.Contains(lines, l => l.Contains("AllowPrivateNetworks is ON", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("Dispatcher", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("Microsoft.AspNetCore", StringComparison.Ordinal));
        Assert.Equal(8, secrets.Distinct().Count());
        foreach (var secret in secrets)
        {
            var forms = Forms(secret);
            var leaks = lines.Where(l => forms.Any(f => l.Contains(f, StringComparison.Ordinal))).ToList();
            Assert.True(leaks.Count == 0, $"a secret appears in the log: {string.Join("\n", leaks.Take(3))}");
        }

        foreach (var (id, secret) in credentials)
        {
            var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{id}:{secret}"));
            Assert.DoesNotContain(lines, l => l.Contains(basic, StringComparison.Ordinal));
        }

        Assert.DoesNotContain(lines, l => l.Contains(HooklineHost.PlatformToken, StringComparison.Ordinal));
    }

    private static Task AllAttemptedAsync(HttpClient client, string[] eventIds, int attempts)
        => Eventually.UntilAsync(
            async () =>
            {
                var counts = new List<int>();
                foreach (var eventId in eventIds)
                {
                    var evt = await client.GetJsonAsync($"/v1/events/{eventId}");
                    counts.AddRange(evt.GetProperty("deliveries").EnumerateArray().Select(d => d.GetProperty("attempt_count").GetInt32()));
                }

                return counts;
            },
            counts => counts.All(c => c >= attempts),
            what: $"every delivery attempted {attempts} times");

    private async Task<JsonElement> CreateAsync(HttpClient client, string path, string secret)
        => await ApiAssert.JsonAsync(
            await client.PostJsonAsync("/v1/webhooks", JsonSerializer.Serialize(new { url = new Uri(_receiver.Url, path).ToString(), events = new[] { "*" }, secret })),
            HttpStatusCode.Created);

    private async Task<string> PublishAsync(string accountId)
        => (await _host.PublishAsync(accountId)).GetProperty("id").GetString()!;

    /// <summary>The secret as typed, its UTF-8 bytes in hex and base64 and, for <c>whsec_</c> secrets, the decoded key in hex and base64.</summary>
    private static string[] Forms(string secret)
    {
        var bytes = Encoding.UTF8.GetBytes(secret);
        var forms = new List<string> { secret, Convert.ToHexStringLower(bytes), Convert.ToHexString(bytes), Convert.ToBase64String(bytes).TrimEnd('=') };
        if (secret.StartsWith("whsec_", StringComparison.Ordinal))
        {
            var key = Convert.FromBase64String(secret["whsec_".Length..]);
            forms.AddRange([secret["whsec_".Length..].TrimEnd('='), Convert.ToHexStringLower(key), Convert.ToHexString(key)]);
        }

        return [.. forms.Concat(forms.Select(f => JsonSerializer.Serialize(f)[1..^1])).Distinct()];
    }
}
