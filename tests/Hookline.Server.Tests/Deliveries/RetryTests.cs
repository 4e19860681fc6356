using System.Net;
using System.Net.Sockets;
using Hookline.Server.Tests.Infrastructure;
using Hookline.Testing;
using Microsoft.AspNetCore.Http;

namespace Hookline.Server.Tests.Deliveries;

/// <summary>Retries and lifecycle on an injected clock: the test moves time, nothing sleeps for a retry.</summary>
public sealed class RetryTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly ManualTimeProvider _clock = new(Start);
    private HooklineHost _host = null!;
    private TestReceiver _receiver = null!;

    public async Task InitializeAsync()
    {
        // Jitter fixed at the middle of its range (0.5 → factor 1.0): delays are exactly 10 s, 20 s, 40 s, ...
        _host = await HooklineHost.StartAsync(
            new Dictionary<string, string?>
            {
                ["Delivery:RetryBaseDelay"] = "00:00:10",
                ["Delivery:RetryWindow"] = "00:01:00",
                ["Delivery:DisableAfter"] = "01:00:00",
                ["Delivery:SlowDownFloor"] = "00:00:30",
            },
            time: _clock,
            jitter: new FixedJitter(0.5));
        _receiver = await TestReceiver.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    [Fact]
    public async Task Receiver_that_fails_twice_then_succeeds_gets_exactly_three_identical_requests()
    {
        _receiver.Handler = (n, context) => { context.Response.StatusCode = n <= 2 ? 500 : 200; return Task.CompletedTask; };
        var account = await _host.CreateAccountAsync();
        await account.CreateWebhookAsync(_receiver.Url.ToString(), secret: "generate");
        var eventId = (await _host.PublishAsync(account.Id)).GetProperty("id").GetString()!;

        await account.Test.DeliveryAfterAttemptsAsync(eventId, 1);
        _clock.Advance(TimeSpan.FromSeconds(10));
        await account.Test.DeliveryAfterAttemptsAsync(eventId, 2);
        _clock.Advance(TimeSpan.FromSeconds(20));
        var delivery = await account.Test.DeliveryWithStatusAsync(eventId, "succeeded");

        Assert.Equal(3, _receiver.Count);
        var bodies = _receiver.Requests.Select(r => r.Body).ToList();
        Assert.All(bodies, b => Assert.Equal(bodies[0], b));
        Assert.All(_receiver.Requests, r => Assert.Equal(_receiver.Requests[0].Header("X-Razorpay-Signature"), r.Header("X-Razorpay-Signature")));
        // webhook-timestamp is the send time of each attempt.
        Assert.Equal(
            [Start.ToUnixTimeSeconds(), Start.AddSeconds(10).ToUnixTimeSeconds(), Start.AddSeconds(30).ToUnixTimeSeconds()],
            _receiver.Requests.Select(r => long.Parse(r.Header("webhook-timestamp"), System.Globalization.CultureInfo.InvariantCulture)));

        var attempts = delivery.GetProperty("attempts").EnumerateArray().ToList();
        Assert.Equal([1, 2, 3], attempts.Select(a => a.GetProperty("number").GetInt32()));
        Assert.Equal(["initial", "retry", "retry"], attempts.Select(a => a.GetProperty("trigger").GetString()));
        Assert.Equal([500, 500, 200], attempts.Select(a => a.GetProperty("status_code").GetInt32()));
        Assert.Equal("http_status", attempts[0].GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_retry_is_not_sent_before_its_backoff_has_passed()
    {
        _receiver.Handler = (_, context) => { context.Response.StatusCode = 500; return Task.CompletedTask; };
        var account = await _host.CreateAccountAsync();
        await account.CreateWebhookAsync(_receiver.Url.ToString());
        var eventId = (await _host.PublishAsync(account.Id)).GetProperty("id").GetString()!;
        var first = await account.Test.DeliveryAfterAttemptsAsync(eventId, 1);
        Assert.Equal(Start.AddSeconds(10).ToUnixTimeSeconds(), first.GetProperty("next_attempt_at").GetInt64());

        _clock.Advance(TimeSpan.FromSeconds(9));
        // Several real lease rounds run before the retry is due; none may send it early.
        var dispatcher = _host.Get<Hookline.Core.Delivery.Dispatcher>();
        var rounds = dispatcher.LeaseRounds;
        var nudged = TimeSpan.Zero;
        await Eventually.UntilAsync(
            () =>
            {
                // Nudge the poll timer, staying short of the 10 s mark.
                if (nudged < TimeSpan.FromMilliseconds(900))
                {
                    _clock.Advance(TimeSpan.FromMilliseconds(60));
                    nudged += TimeSpan.FromMilliseconds(60);
                }

                return Task.FromResult(dispatcher.LeaseRounds);
            },
            r => r >= rounds + 5, what: "five lease rounds");

        Assert.Equal(1, (await account.Test.DeliveryAsync(eventId)).GetProperty("attempt_count").GetInt32());
        _clock.Advance(TimeSpan.FromSeconds(1));

        // A lease round that read the clock just before that advance found nothing due and now waits a poll interval
        // from the advanced time, which the frozen clock never reaches by itself: keep nudging it (staying far short
        // of the next retry, 20 s later) until the due retry goes out.
        var late = TimeSpan.Zero;
        await Eventually.UntilAsync(
            async () =>
            {
                if (late < TimeSpan.FromSeconds(5))
                {
                    _clock.Advance(TimeSpan.FromMilliseconds(100));
                    late += TimeSpan.FromMilliseconds(100);
                }

                return await account.Test.DeliveryAsync(eventId);
            },
            d => d.GetProperty("attempt_count").GetInt32() >= 2,
            what: "2 attempts recorded");
    }

    [Fact]
    public async Task No_attempt_starts_after_the_retry_window_and_the_delivery_ends_failed()
    {
        _receiver.Handler = (_, context) => { context.Response.StatusCode = 503; return Task.CompletedTask; };
        var account = await _host.CreateAccountAsync();
        await account.CreateWebhookAsync(_receiver.Url.ToString());
        var eventId = (await _host.PublishAsync(account.Id)).GetProperty("id").GetString()!;

        // Attempts at 0 s, 10 s and 30 s; the next would be at 70 s, past the 60 s window.
        await account.Test.DeliveryAfterAttemptsAsync(eventId, 1);
        _clock.Advance(TimeSpan.FromSeconds(10));
        await account.Test.DeliveryAfterAttemptsAsync(eventId, 2);
        _clock.Advance(TimeSpan.FromSeconds(20));
        var delivery = await account.Test.DeliveryWithStatusAsync(eventId, "failed");
        _clock.Advance(TimeSpan.FromMinutes(10));

        Assert.Equal(3, delivery.GetProperty("attempt_count").GetInt32());
        Assert.Equal(JsonValueKindNull, delivery.GetProperty("next_attempt_at").ValueKind);
        var deadline = Start.AddMinutes(1).ToUnixTimeSeconds();
        Assert.All(delivery.GetProperty("attempts").EnumerateArray(), a => Assert.True(a.GetProperty("started_at").GetInt64() <= deadline));
        Assert.Equal(3, _receiver.Count);
    }

    [Fact]
    public async Task Retry_After_on_503_is_honoured_within_twice_the_backoff()
    {
        _receiver.Handler = (n, context) =>
        {
            context.Response.StatusCode = n == 1 ? 503 : 200;
            context.Response.Headers.RetryAfter = "15";
            return Task.CompletedTask;
        };
        var account = await _host.CreateAccountAsync();
        await account.CreateWebhookAsync(_receiver.Url.ToString());
        var eventId = (await _host.PublishAsync(account.Id)).GetProperty("id").GetString()!;

        var first = await account.Test.DeliveryAfterAttemptsAsync(eventId, 1);
        Assert.Equal(Start.AddSeconds(15).ToUnixTimeSeconds(), first.GetProperty("next_attempt_at").GetInt64());
        _clock.Advance(TimeSpan.FromSeconds(15));
        await account.Test.DeliveryWithStatusAsync(eventId, "succeeded");
    }

    [Fact]
    public async Task Webhook_failing_for_the_whole_disable_window_is_disabled_and_later_events_are_skipped()
    {
        await _host.DisposeAsync();
        _host = await HooklineHost.StartAsync(
            new Dictionary<string, string?>
            {
                ["Delivery:RetryBaseDelay"] = "00:00:10",
                ["Delivery:RetryWindow"] = "01:00:00",
                ["Delivery:DisableAfter"] = "00:01:00",
            },
            time: _clock,
            jitter: new FixedJitter(0.5));
        _receiver.Handler = (_, context) => { context.Response.StatusCode = 500; return Task.CompletedTask; };
        var account = await _host.CreateAccountAsync();
        var webhookId = (await account.CreateWebhookAsync(_receiver.Url.ToString())).GetProperty("id").GetString()!;
        var first = (await _host.PublishAsync(account.Id)).GetProperty("id").GetString()!;

        // Failures at 0, 10, 30 and 70 s: the fourth is past the 60 s disable window.
        await account.Test.DeliveryAfterAttemptsAsync(first, 1);
        _clock.Advance(TimeSpan.FromSeconds(10));
        await account.Test.DeliveryAfterAttemptsAsync(first, 2);
        _clock.Advance(TimeSpan.FromSeconds(20));
        await account.Test.DeliveryAfterAttemptsAsync(first, 3);
        var second = (await _host.PublishAsync(account.Id)).GetProperty("id").GetString()!;
        await account.Test.DeliveryAfterAttemptsAsync(second, 1);
        _clock.Advance(TimeSpan.FromSeconds(40));

        var webhook = await Eventually.UntilAsync(() => account.Test.GetJsonAsync($"/v1/webhooks/{webhookId}"), w => !w.GetProperty("active").GetBoolean(), what: "webhook disabled");
        Assert.Equal(Start.AddSeconds(70).ToUnixTimeSeconds(), webhook.GetProperty("disabled_at").GetInt64());
        Assert.Contains("failing", webhook.GetProperty("disabled_reason").GetString());
        await account.Test.DeliveryWithStatusAsync(first, "cancelled");
        await account.Test.DeliveryWithStatusAsync(second, "cancelled");

        var later = await _host.PublishAsync(account.Id);
        Assert.Equal(1, later.GetProperty("skipped").GetInt32());
        var skipped = await account.Test.DeliveryAsync(later.GetProperty("id").GetString()!);
        Assert.Equal("skipped", skipped.GetProperty("status").GetString());
        Assert.Equal(0, skipped.GetProperty("attempt_count").GetInt32());
    }

    [Fact]
    public async Task Re_enabling_a_disabled_webhook_clears_its_disabled_state()
    {
        var account = await _host.CreateAccountAsync();
        var webhookId = (await account.CreateWebhookAsync(_receiver.Url.ToString())).GetProperty("id").GetString()!;
        var off = await account.Test.PatchAsync($"/v1/webhooks/{webhookId}", JsonContent("""{"active":false}"""));
        Assert.Equal(HttpStatusCode.OK, off.StatusCode);
        var disabled = await account.Test.GetJsonAsync($"/v1/webhooks/{webhookId}");
        Assert.False(disabled.GetProperty("active").GetBoolean());
        Assert.NotEqual(JsonValueKindNull, disabled.GetProperty("disabled_at").ValueKind);

        var on = await account.Test.PatchAsync($"/v1/webhooks/{webhookId}", JsonContent("""{"active":true}"""));
        Assert.Equal(HttpStatusCode.OK, on.StatusCode);
        var enabled = await account.Test.GetJsonAsync($"/v1/webhooks/{webhookId}");
        Assert.True(enabled.GetProperty("active").GetBoolean());
        Assert.Equal(JsonValueKindNull, enabled.GetProperty("disabled_at").ValueKind);
        Assert.Equal(JsonValueKindNull, enabled.GetProperty("failing_since").ValueKind);
    }

    private const System.Text.Json.JsonValueKind JsonValueKindNull = System.Text.Json.JsonValueKind.Null;

    private static StringContent JsonContent(string json) => new(json, System.Text.Encoding.UTF8, "application/json");
}

/// <summary>Failure kinds on the real clock with a 1 s attempt budget.</summary>
public sealed class FailureKindTests : IAsyncLifetime
{
    private HooklineHost _host = null!;
    private TestReceiver _receiver = null!;
    private TestAccount _account = null!;

    public async Task InitializeAsync()
    {
        _host = await HooklineHost.StartAsync(new Dictionary<string, string?> { ["Delivery:Timeout"] = "00:00:01" });
        _receiver = await TestReceiver.StartAsync();
        _account = await _host.CreateAccountAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    [Fact]
    public async Task Redirect_is_a_failure_and_is_not_followed()
    {
        await using var target = await TestReceiver.StartAsync();
        _receiver.Handler = (_, context) => { context.Response.StatusCode = 307; context.Response.Headers.Location = target.Url.ToString(); return Task.CompletedTask; };
        var attempt = await FirstAttemptAsync(_receiver.Url.ToString());
        Assert.Equal("redirect", attempt.GetProperty("error").GetString());
        Assert.Equal(307, attempt.GetProperty("status_code").GetInt32());
        Assert.Equal(0, target.Count);
        Assert.Equal(1, _receiver.Count);
    }

    [Fact]
    public async Task Receiver_that_hangs_is_a_timeout()
    {
        _receiver.Handler = async (_, context) => await Task.Delay(Timeout.Infinite, context.RequestAborted);
        var attempt = await FirstAttemptAsync(_receiver.Url.ToString());
        Assert.Equal("timeout", attempt.GetProperty("error").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, attempt.GetProperty("status_code").ValueKind);
    }

    [Fact]
    public async Task Refused_connection_is_connection_refused()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var attempt = await FirstAttemptAsync($"http://127.0.0.1:{port}/hooks");
        Assert.Equal("connection_refused", attempt.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Non_2xx_status_is_a_failure_with_its_code_and_a_capped_excerpt()
    {
        _receiver.Handler = async (_, context) =>
        {
            context.Response.StatusCode = 410;
            await context.Response.WriteAsync(new string('x', 100_000));
        };
        var attempt = await FirstAttemptAsync(_receiver.Url.ToString());
        Assert.Equal("http_status", attempt.GetProperty("error").GetString());
        Assert.Equal(410, attempt.GetProperty("status_code").GetInt32());
        Assert.Equal(4096, attempt.GetProperty("response_excerpt").GetString()!.Length);
    }

    [Fact]
    public async Task Gzip_response_is_not_decompressed()
    {
        _receiver.Handler = async (_, context) =>
        {
            context.Response.StatusCode = 500;
            context.Response.Headers.ContentEncoding = "gzip";
            await context.Response.Body.WriteAsync(new byte[] { 0x1f, 0x8b, 0x08, 0x00 });
        };
        var attempt = await FirstAttemptAsync(_receiver.Url.ToString());
        Assert.Equal(500, attempt.GetProperty("status_code").GetInt32());
        Assert.StartsWith("\u001f", attempt.GetProperty("response_excerpt").GetString());
    }

    private async Task<System.Text.Json.JsonElement> FirstAttemptAsync(string url)
    {
        await _account.CreateWebhookAsync(url);
        var eventId = (await _host.PublishAsync(_account.Id)).GetProperty("id").GetString()!;
        var delivery = await _account.Test.DeliveryAfterAttemptsAsync(eventId, 1);
        return delivery.GetProperty("attempts")[0];
    }
}
