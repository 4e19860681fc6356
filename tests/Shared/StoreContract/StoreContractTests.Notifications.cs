using Hookline.Core;
using Hookline.Core.Delivery;
using Hookline.Core.Notifications;
using Hookline.Core.Webhooks;

namespace Hookline.Tests.StoreContract;

/// <summary>The notification outbox: written with the streak change, once per kind per streak, leased and fenced.</summary>
public abstract partial class StoreContractTests
{
    private INotificationStore Outbox => Store as INotificationStore
        ?? throw new Xunit.Sdk.XunitException($"{Store.GetType().Name} does not implement INotificationStore.");

    private async Task<IReadOnlyList<Notification>> NotificationsAsync(string accountId)
        => [.. (await Outbox.ListNotificationsAsync(accountId, Modes.Test, 100, 0, Ct)).OrderBy(n => n.CreatedAt).ThenBy(n => n.Kind, StringComparer.Ordinal)];

    /// <summary>Ingests one event for the webhook and fails its attempts at the given offsets from T0.</summary>
    private async Task FailAtAsync(string accountId, params int[] minutes)
    {
        var evt = Event(accountId);
        await IngestAsync(evt);
        foreach (var minute in minutes)
        {
            var at = T0.AddMinutes(minute);
            var leased = Assert.Single(await LeaseAsync(at));
            await CompleteAsync(at, Failure(leased, at, retryAt: at.AddMinutes(1)));
        }
    }

    [Fact]
    public async Task First_failure_of_a_streak_writes_one_notification_to_the_alert_address()
    {
        var account = await AccountAsync();
        var webhook = await WebhookAsync(account, alertEmail: "alerts@acme.test");
        await FailAtAsync(account, 0, 2, 4);

        var notification = Assert.Single(await NotificationsAsync(account));
        Assert.Equal(NotificationKind.FailureStreakStarted, notification.Kind);
        Assert.Equal(webhook.Id, notification.WebhookId);
        Assert.Equal("alerts@acme.test", notification.Recipient);
        Assert.Equal(NotificationStatus.Unsent, notification.Status);
        Assert.Equal(T0, notification.Facts.FailingSince);
        Assert.Equal(T0 + DisableAfter, notification.Facts.DisableAt);
        Assert.Equal(500, notification.Facts.LastStatusCode);
        Assert.Equal(webhook.Url, notification.Facts.Url);
    }

    [Fact]
    public async Task Result_batches_written_at_once_start_each_webhooks_streak_once()
    {
        // Workers sharing a store write their result batches concurrently. Each webhook here fails once in each of
        // two batches written together: whichever lands second must see the streak the first started, not start
        // (and announce) one of its own.
        var account = await AccountAsync();
        var webhooks = new List<Webhook>();
        for (var i = 0; i < 12; i++)
        {
            webhooks.Add(await WebhookAsync(account));
        }

        await IngestAsync(Event(account));
        await IngestAsync(Event(account));
        var leased = await LeaseAsync(T0, max: 100);
        Assert.Equal(24, leased.Count);
        var firsts = leased.GroupBy(d => d.WebhookId).Select(g => g.First()).ToHashSet();
        Completion Fail(LeasedDelivery d, int second) => Failure(d, T0.AddSeconds(second), retryAt: T0.AddMinutes(1));
        var a = leased.Where(firsts.Contains).Select(d => Fail(d, 1)).ToArray();
        var b = leased.Where(d => !firsts.Contains(d)).Select(d => Fail(d, 2)).ToArray();

        var reports = await Task.WhenAll(
            Task.Run(() => CompleteAsync(T0.AddSeconds(3), a)),
            Task.Run(() => CompleteAsync(T0.AddSeconds(3), b)));

        Assert.Equal(24, reports.Sum(r => r.Applied));
        var started = (await NotificationsAsync(account)).Where(n => n.Kind == NotificationKind.FailureStreakStarted).ToList();
        Assert.Equal(webhooks.Select(w => w.Id).Order(), started.Select(n => n.WebhookId).Order());
        foreach (var webhook in webhooks)
        {
            var since = (await WebhookByIdAsync(account, webhook.Id)).FailingSince;
            Assert.Equal(since, Assert.Single(started, n => n.WebhookId == webhook.Id).Facts.FailingSince);
        }
    }

    [Fact]
    public async Task Without_an_alert_address_the_accounts_email_is_used()
    {
        var account = await AccountAsync();
        await WebhookAsync(account);
        await FailAtAsync(account, 0);
        Assert.Equal("ops@acme.test", Assert.Single(await NotificationsAsync(account)).Recipient);
    }

    [Fact]
    public async Task A_streak_past_half_the_window_warns_once_and_disabling_notifies_once()
    {
        var account = await AccountAsync();
        await WebhookAsync(account);
        // DisableAfter is one hour: half way at 30 min, disabled at 60 min.
        await FailAtAsync(account, 0, 29, 30, 31, 45, 60);

        var kinds = (await NotificationsAsync(account)).Select(n => n.Kind).ToList();
        Assert.Equal([NotificationKind.FailureStreakStarted, NotificationKind.FailureStreakHalfway, NotificationKind.WebhookDisabled], kinds);
        var disabled = (await NotificationsAsync(account))[2];
        Assert.Equal(T0.AddMinutes(60), disabled.Facts.DisabledAt);
    }

    [Fact]
    public async Task A_success_ends_the_streak_and_the_next_streak_warns_again()
    {
        var account = await AccountAsync();
        await WebhookAsync(account);
        await FailAtAsync(account, 0);
        var evt = Event(account);
        await IngestAsync(evt);
        var ok = Assert.Single(await LeaseAsync(T0.AddMinutes(1)), d => d.EventId == evt.Id);
        await CompleteAsync(T0.AddMinutes(1), Success(ok, T0.AddMinutes(1)));

        var second = Event(account);
        await IngestAsync(second);
        var failing = Assert.Single(await LeaseAsync(T0.AddMinutes(5)), d => d.EventId == second.Id);
        await CompleteAsync(T0.AddMinutes(5), Failure(failing, T0.AddMinutes(5), retryAt: T0.AddMinutes(6)));

        var streaks = (await NotificationsAsync(account)).Where(n => n.Kind == NotificationKind.FailureStreakStarted).ToList();
        Assert.Equal(2, streaks.Count);
        Assert.Equal([T0, T0.AddMinutes(5)], streaks.Select(n => n.Facts.FailingSince!.Value));
    }

    [Fact]
    public async Task Re_enabling_a_disabled_webhook_writes_a_notice()
    {
        var account = await AccountAsync();
        var webhook = await WebhookAsync(account);
        await FailAtAsync(account, 0, 60);
        await Store.UpdateWebhookAsync(account, Modes.Test, webhook.Id, new Hookline.Core.Webhooks.WebhookChanges(Active: true), T0.AddMinutes(90), Ct);

        var last = (await NotificationsAsync(account))[^1];
        Assert.Equal(NotificationKind.WebhookReenabled, last.Kind);
        Assert.Equal(T0.AddMinutes(60), last.Facts.DisabledAt);
    }

    [Fact]
    public async Task Notifications_are_leased_once_and_a_stale_senders_result_is_ignored()
    {
        var account = await AccountAsync();
        await WebhookAsync(account);
        await FailAtAsync(account, 0);
        var now = T0.AddMinutes(1);

        var first = Assert.Single(await Outbox.LeaseNotificationsAsync("sender-a", now, TimeSpan.FromMinutes(2), 10, Ct));
        Assert.Empty(await Outbox.LeaseNotificationsAsync("sender-b", now.AddMinutes(1), TimeSpan.FromMinutes(2), 10, Ct));

        // Sender A stalls past its lease; B takes it over and sends it.
        var second = Assert.Single(await Outbox.LeaseNotificationsAsync("sender-b", now.AddMinutes(3), TimeSpan.FromMinutes(2), 10, Ct));
        Assert.True(second.LeaseToken > first.LeaseToken);
        Assert.True(await Outbox.CompleteNotificationAsync(new NotificationResult(second.Notification.Id, second.LeaseToken, NotificationStatus.Sent, "250 ok", null, now.AddMinutes(3)), Ct));
        Assert.False(await Outbox.CompleteNotificationAsync(new NotificationResult(first.Notification.Id, first.LeaseToken, NotificationStatus.Unsent, "421 late", now.AddMinutes(9), now.AddMinutes(4)), Ct));

        var stored = Assert.Single(await NotificationsAsync(account));
        Assert.Equal(NotificationStatus.Sent, stored.Status);
        Assert.Equal("250 ok", stored.LastReply);
        Assert.Equal(now.AddMinutes(3), stored.SentAt);
        Assert.Empty(await Outbox.LeaseNotificationsAsync("sender-c", now.AddHours(1), TimeSpan.FromMinutes(2), 10, Ct));
    }

    [Fact]
    public async Task A_failed_send_is_retried_when_due_and_counts_its_attempts()
    {
        var account = await AccountAsync();
        await WebhookAsync(account);
        await FailAtAsync(account, 0);
        var now = T0.AddMinutes(1);
        var leased = Assert.Single(await Outbox.LeaseNotificationsAsync("sender-a", now, TimeSpan.FromMinutes(2), 10, Ct));
        Assert.True(await Outbox.CompleteNotificationAsync(new NotificationResult(leased.Notification.Id, leased.LeaseToken, NotificationStatus.Unsent, "connection refused", now.AddMinutes(5), now), Ct));

        Assert.Empty(await Outbox.LeaseNotificationsAsync("sender-a", now.AddMinutes(4), TimeSpan.FromMinutes(2), 10, Ct));
        var again = Assert.Single(await Outbox.LeaseNotificationsAsync("sender-a", now.AddMinutes(5), TimeSpan.FromMinutes(2), 10, Ct));
        Assert.Equal(1, again.Notification.Attempts);
        Assert.Equal("connection refused", again.Notification.LastReply);
    }

    [Fact]
    public async Task Platform_listing_sees_every_account_and_merchants_see_only_their_own()
    {
        var first = await AccountAsync();
        var second = await AccountAsync();
        await WebhookAsync(first);
        await WebhookAsync(second);
        await FailAtAsync(first, 0);
        await FailAtAsync(second, 0);

        Assert.Equal(2, (await Outbox.ListNotificationsAsync(null, null, 100, 0, Ct)).Count);
        Assert.Single(await Outbox.ListNotificationsAsync(first, Modes.Test, 100, 0, Ct));
        Assert.Empty(await Outbox.ListNotificationsAsync(first, Modes.Live, 100, 0, Ct));
    }
}
