using System.Net.Http.Json;
using System.Text.Json;
using Hookline.Server.Tests.Infrastructure;
using Hookline.Testing;

namespace Hookline.Server.Tests.Notifications;

/// <summary>
/// Alert e-mails over a real SMTP server (maildev), on an injected clock: failures at 0, 10, 30 and 70 s with
/// a 60 s disable window give "first failure" at 0 s, "half way" at 30 s and "disabled" at 70 s.
/// </summary>
public sealed class AlertEmailTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 6, 1, 9, 0, 0, TimeSpan.Zero);
    private readonly ManualTimeProvider _clock = new(Start);
    private MailDev _mail = null!;
    private HooklineHost _host = null!;
    private TestReceiver _receiver = null!;

    public async Task InitializeAsync()
    {
        _mail = await MailDev.StartAsync();
        _host = await StartHostAsync(smtp: true);
        _receiver = await TestReceiver.StartAsync((_, context) => { context.Response.StatusCode = 500; return Task.CompletedTask; });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _receiver.DisposeAsync();
        await _mail.DisposeAsync();
    }

    [Fact]
    public async Task Always_failing_webhook_produces_exactly_three_emails_to_the_alert_address()
    {
        var account = await _host.CreateAccountAsync(email: "owner@acme.test");
        var webhook = await account.CreateWebhookAsync(_receiver.Url.ToString(), secret: "generate");
        var webhookId = webhook.GetProperty("id").GetString()!;
        var secret = webhook.GetProperty("secret").GetString()!;
        await account.Test.PatchAsJsonAsync($"/v1/webhooks/{webhookId}", new { alert_email = "alerts@acme.test" });

        await FailUntilDisabledAsync(account);
        var mails = await _mail.WaitForMessagesAsync(3);

        Assert.Equal(3, mails.Count);
        Assert.All(mails, m => Assert.Equal(["alerts@acme.test"], m.To));
        Assert.Contains("failing", mails[0].Subject, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("still failing", mails[1].Subject, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("disabled", mails[2].Subject, StringComparison.OrdinalIgnoreCase);

        var url = _receiver.Url.ToString();
        Assert.All(mails, m =>
        {
            Assert.Contains(url, m.Subject);
            Assert.Contains(url, m.Text);
            Assert.Contains("Mode: test", m.Text);
            Assert.Contains("Last error: HTTP 500", m.Text);
            Assert.Contains("Failing since: 2026-06-01 09:00:00 UTC", m.Text);
            Assert.Contains("<table>", m.Html);
            Assert.DoesNotContain(secret, m.Text + m.Html + m.Subject);
            Assert.DoesNotContain(secret["whsec_".Length..], m.Text + m.Html);
        });
        Assert.Contains("Will be disabled at: 2026-06-01 09:01:00 UTC", mails[0].Text);
        Assert.Contains("Failing deliveries: 1", mails[1].Text);
        Assert.Contains("Failing deliveries: 2", mails[2].Text);
        Assert.Contains("Disabled at: 2026-06-01 09:01:10 UTC", mails[2].Text);
        Assert.Contains("\"active\": true", mails[2].Text);
        Assert.Contains($"/v1/webhooks/{webhookId}/replay", mails[2].Text);

        // Events after disabling are skipped, and no further e-mail follows in this streak.
        await _host.PublishAsync(account.Id);
        _clock.Advance(TimeSpan.FromMinutes(5));
        var listed = await account.Test.GetJsonAsync("/v1/notifications");
        Assert.Equal(
            ["webhook_disabled", "failure_streak_halfway", "failure_streak_started"],
            listed.GetProperty("items").EnumerateArray().Select(n => n.GetProperty("kind").GetString()));
        Assert.All(listed.GetProperty("items").EnumerateArray(), n => Assert.Equal("sent", n.GetProperty("status").GetString()));
        Assert.Equal(3, (await _mail.MessagesAsync()).Count);
    }

    [Fact]
    public async Task Recovery_before_half_way_sends_only_the_first_warning_and_a_new_streak_warns_again()
    {
        var failing = true;
        _receiver.Handler = (_, context) => { context.Response.StatusCode = failing ? 503 : 200; return Task.CompletedTask; };
        var account = await _host.CreateAccountAsync(email: "owner@acme.test");
        await account.CreateWebhookAsync(_receiver.Url.ToString());

        var first = (await _host.PublishAsync(account.Id)).GetProperty("id").GetString()!;
        await account.Test.DeliveryAfterAttemptsAsync(first, 1);
        await _mail.WaitForMessagesAsync(1);
        failing = false;
        _clock.Advance(TimeSpan.FromSeconds(10));
        await account.Test.DeliveryWithStatusAsync(first, "succeeded");
        _clock.Advance(TimeSpan.FromSeconds(40));

        failing = true;
        var second = (await _host.PublishAsync(account.Id)).GetProperty("id").GetString()!;
        await account.Test.DeliveryAfterAttemptsAsync(second, 1);
        var mails = await _mail.WaitForMessagesAsync(2);

        Assert.Equal(2, mails.Count);
        Assert.All(mails, m => Assert.Equal(["owner@acme.test"], m.To));
        Assert.All(mails, m => Assert.StartsWith("[Hookline] Webhook failing", m.Subject));
        var kinds = (await account.Test.GetJsonAsync("/v1/notifications")).GetProperty("items").EnumerateArray().Select(n => n.GetProperty("kind").GetString()).ToList();
        Assert.Equal(["failure_streak_started", "failure_streak_started"], kinds);
    }

    [Fact]
    public async Task While_SMTP_is_down_notifications_wait_and_are_delivered_once_when_it_is_back()
    {
        await _mail.StopAsync();
        // Fails once, then recovers: exactly one notification exists, whatever the clock does next.
        _receiver.Handler = (n, context) => { context.Response.StatusCode = n == 1 ? 500 : 200; return Task.CompletedTask; };
        var account = await _host.CreateAccountAsync(email: "owner@acme.test");
        await account.CreateWebhookAsync(_receiver.Url.ToString());
        var eventId = (await _host.PublishAsync(account.Id)).GetProperty("id").GetString()!;
        await account.Test.DeliveryAfterAttemptsAsync(eventId, 1);

        var pending = await Eventually.UntilAsync(
            () => account.Test.GetJsonAsync("/v1/notifications"),
            n => n.GetProperty("items").EnumerateArray().Any(i => i.GetProperty("attempts").GetInt32() >= 1),
            what: "a failed send recorded");
        var item = pending.GetProperty("items")[0];
        Assert.Equal("unsent", item.GetProperty("status").GetString());
        Assert.False(string.IsNullOrEmpty(item.GetProperty("last_reply").GetString()));

        await _mail.RestartAsync();
        _clock.Advance(TimeSpan.FromSeconds(30));
        var mails = await _mail.WaitForMessagesAsync(1);
        await account.Test.DeliveryWithStatusAsync(eventId, "succeeded");
        var sent = await Eventually.UntilAsync(
            () => account.Test.GetJsonAsync("/v1/notifications"),
            n => n.GetProperty("items")[0].GetProperty("status").GetString() == "sent",
            what: "notification sent");
        Assert.Single(mails);
        Assert.Equal(1, sent.GetProperty("count").GetInt32());
        Assert.Equal(2, sent.GetProperty("items")[0].GetProperty("attempts").GetInt32());
    }

    [Fact]
    public async Task Without_SMTP_notifications_are_kept_unsent_and_listed_for_merchant_and_platform()
    {
        await _host.DisposeAsync();
        _host = await StartHostAsync(smtp: false);
        var account = await _host.CreateAccountAsync(email: "owner@acme.test");
        await account.CreateWebhookAsync(_receiver.Url.ToString());
        var eventId = (await _host.PublishAsync(account.Id)).GetProperty("id").GetString()!;
        await account.Test.DeliveryAfterAttemptsAsync(eventId, 1);

        var mine = await Eventually.UntilAsync(() => account.Test.GetJsonAsync("/v1/notifications"), n => n.GetProperty("count").GetInt32() == 1, what: "one notification");
        Assert.Equal("unsent", mine.GetProperty("items")[0].GetProperty("status").GetString());
        Assert.Equal(0, mine.GetProperty("items")[0].GetProperty("attempts").GetInt32());
        Assert.Equal("owner@acme.test", mine.GetProperty("items")[0].GetProperty("recipient").GetString());

        var other = await _host.CreateAccountAsync("Other", "other@acme.test");
        Assert.Equal(0, (await other.Test.GetJsonAsync("/v1/notifications")).GetProperty("count").GetInt32());
        Assert.Equal(0, (await account.Live.GetJsonAsync("/v1/notifications")).GetProperty("count").GetInt32());
        var all = await _host.Platform.GetFromJsonAsync<JsonElement>("/v1/notifications");
        Assert.Equal(1, all.GetProperty("count").GetInt32());
        Assert.Empty(await _mail.MessagesAsync());
    }

    [Fact]
    public async Task Re_enabling_a_disabled_webhook_sends_a_notice_and_a_later_streak_warns_from_the_start()
    {
        var account = await _host.CreateAccountAsync(email: "owner@acme.test");
        var webhookId = (await account.CreateWebhookAsync(_receiver.Url.ToString())).GetProperty("id").GetString()!;
        await FailUntilDisabledAsync(account);
        await _mail.WaitForMessagesAsync(3);

        await account.Test.PatchAsJsonAsync($"/v1/webhooks/{webhookId}", new { active = true });
        var mails = await _mail.WaitForMessagesAsync(4);
        Assert.Contains("enabled again", mails[3].Subject);
        Assert.Contains("status\": \"skipped", mails[3].Text);

        var eventId = (await _host.PublishAsync(account.Id)).GetProperty("id").GetString()!;
        await account.Test.DeliveryAfterAttemptsAsync(eventId, 1);
        mails = await _mail.WaitForMessagesAsync(5);
        Assert.StartsWith("[Hookline] Webhook failing", mails[4].Subject);
    }

    private async Task FailUntilDisabledAsync(TestAccount account)
    {
        var eventId = (await _host.PublishAsync(account.Id)).GetProperty("id").GetString()!;
        await account.Test.DeliveryAfterAttemptsAsync(eventId, 1);
        _clock.Advance(TimeSpan.FromSeconds(10));
        await account.Test.DeliveryAfterAttemptsAsync(eventId, 2);
        _clock.Advance(TimeSpan.FromSeconds(20));
        await account.Test.DeliveryAfterAttemptsAsync(eventId, 3);
        var second = (await _host.PublishAsync(account.Id)).GetProperty("id").GetString()!;
        await account.Test.DeliveryAfterAttemptsAsync(second, 1);
        _clock.Advance(TimeSpan.FromSeconds(40));
        await account.Test.DeliveryWithStatusAsync(eventId, "cancelled");
    }

    private Task<HooklineHost> StartHostAsync(bool smtp)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Delivery:RetryBaseDelay"] = "00:00:10",
            ["Delivery:RetryWindow"] = "01:00:00",
            ["Delivery:DisableAfter"] = "00:01:00",
            ["Smtp:From"] = "alerts@hookline.test",
            ["Smtp:RetryBaseDelay"] = "00:00:30",
        };
        if (smtp)
        {
            settings["Smtp:Host"] = "127.0.0.1";
            settings["Smtp:Port"] = _mail.SmtpPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return HooklineHost.StartAsync(settings, time: _clock, jitter: new FixedJitter(0.5));
    }
}
