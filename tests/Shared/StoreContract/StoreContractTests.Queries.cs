using Hookline.Core;
using Hookline.Core.Delivery;
using Hookline.Core.Events;
using Hookline.Core.Storage;
using Hookline.Core.Webhooks;

namespace Hookline.Tests.StoreContract;

/// <summary>The contract for listing, replay, test fire and the audit log.</summary>
public abstract partial class StoreContractTests
{
    // Event list

    [Fact]
    public async Task Events_are_listed_newest_first_within_their_account_and_mode()
    {
        var account = await AccountAsync();
        var other = await AccountAsync();
        var events = Enumerable.Range(0, 4).Select(i => Event(account, at: T0 + TimeSpan.FromSeconds(i))).ToArray();
        var tied = new[] { Event(account, at: T0 + TimeSpan.FromSeconds(5)), Event(account, at: T0 + TimeSpan.FromSeconds(5)) };
        foreach (var evt in events.Concat(tied))
        {
            await IngestAsync(evt);
        }

        await IngestAsync(Event(account, mode: Modes.Live));
        await IngestAsync(Event(other));

        var listed = await Store.ListEventsAsync(new EventQuery(account, Modes.Test, null, null, null, 10, 0), Ct);

        var newestFirst = tied.OrderByDescending(e => e.Id, StringComparer.Ordinal).Concat(events.Reverse()).Select(e => e.Id);
        Assert.Equal(newestFirst, listed.Select(e => e.Id));
        var first = Assert.Single(listed, e => e.Id == events[0].Id);
        Assert.Equal(events[0].Body, first.Body);
        Assert.Equal(events[0].CreatedAt, first.CreatedAt);
        Assert.Equal(account, first.AccountId);
        Assert.Equal(Modes.Test, first.Mode);
    }

    [Fact]
    public async Task Event_list_filters_by_inclusive_time_window_and_name_and_pages()
    {
        var account = await AccountAsync();
        var events = new[]
        {
            Event(account, at: T0),
            Event(account, name: "payment.failed", at: T0 + TimeSpan.FromSeconds(1)),
            Event(account, at: T0 + TimeSpan.FromSeconds(2)),
            Event(account, name: "payment.failed", at: T0 + TimeSpan.FromSeconds(3)),
        };
        foreach (var evt in events)
        {
            await IngestAsync(evt);
        }

        Task<IReadOnlyList<StoredEvent>> List(DateTimeOffset? from = null, DateTimeOffset? to = null, string? name = null, int count = 10, int skip = 0)
            => Store.ListEventsAsync(new EventQuery(account, Modes.Test, from, to, name, count, skip), Ct);

        Assert.Equal([events[2].Id, events[1].Id], (await List(T0 + TimeSpan.FromSeconds(1), T0 + TimeSpan.FromSeconds(2))).Select(e => e.Id));
        Assert.Equal([events[3].Id, events[2].Id], (await List(from: T0 + TimeSpan.FromSeconds(2))).Select(e => e.Id));
        Assert.Equal([events[0].Id], (await List(to: T0)).Select(e => e.Id));
        Assert.Equal([events[3].Id, events[1].Id], (await List(name: "payment.failed")).Select(e => e.Id));
        Assert.Equal([events[1].Id], (await List(T0, T0 + TimeSpan.FromSeconds(2), "payment.failed")).Select(e => e.Id));
        Assert.Equal([events[2].Id, events[1].Id], (await List(count: 2, skip: 1)).Select(e => e.Id));
        Assert.Empty(await List(skip: 4));
        Assert.Empty(await List(name: "refund.processed"));
    }

    // Webhook deliveries list

    [Fact]
    public async Task Webhook_deliveries_are_listed_newest_first_filtered_by_status_and_paged()
    {
        var account = await AccountAsync();
        var webhook = await WebhookAsync(account);
        var otherWebhook = await WebhookAsync(account);
        var events = Enumerable.Range(0, 5).Select(i => Event(account, at: T0 + TimeSpan.FromSeconds(i))).ToArray();
        foreach (var evt in events)
        {
            await IngestAsync(evt);
        }

        var leased = await LeaseAsync(T0 + TimeSpan.FromMinutes(1), max: 2, excluded: [otherWebhook.Id]);
        await CompleteAsync(T0 + TimeSpan.FromMinutes(1), Success(leased[0], T0 + TimeSpan.FromMinutes(1)), Failure(leased[1], T0 + TimeSpan.FromMinutes(1), retryAt: null));

        Task<IReadOnlyList<DeliverySummary>?> List(string? status = null, int count = 10, int skip = 0)
            => Store.ListWebhookDeliveriesAsync(account, Modes.Test, webhook.Id, status, count, skip, Ct);

        var all = await List();
        Assert.NotNull(all);
        Assert.Equal(events.Reverse().Select(e => e.Id), all.Select(d => d.EventId));
        Assert.All(all, d => Assert.Equal(webhook.Id, d.WebhookId));
        Assert.Equal([events[0].Id], (await List(DeliveryStatus.Succeeded))!.Select(d => d.EventId));
        Assert.Equal([events[1].Id], (await List(DeliveryStatus.Failed))!.Select(d => d.EventId));
        Assert.Equal([events[4].Id, events[3].Id, events[2].Id], (await List(DeliveryStatus.Pending))!.Select(d => d.EventId));
        Assert.Equal([events[3].Id, events[2].Id], (await List(count: 2, skip: 1))!.Select(d => d.EventId));
        Assert.Equal([events[2].Id], (await List(DeliveryStatus.Pending, count: 1, skip: 2))!.Select(d => d.EventId));
        Assert.Empty((await List(skip: 5))!);
        Assert.Empty((await List(DeliveryStatus.Cancelled))!);
        var failed = Assert.Single((await List(DeliveryStatus.Failed))!);
        Assert.Equal(500, failed.LastStatusCode);
        Assert.Equal(1, failed.Attempts);
    }

    [Fact]
    public async Task Webhook_deliveries_of_another_account_or_mode_are_not_found_but_a_deleted_webhooks_are()
    {
        var account = await AccountAsync();
        var other = await AccountAsync();
        var webhook = await WebhookAsync(account);
        var evt = Event(account);
        await IngestAsync(evt);

        Assert.Null(await Store.ListWebhookDeliveriesAsync(other, Modes.Test, webhook.Id, null, 10, 0, Ct));
        Assert.Null(await Store.ListWebhookDeliveriesAsync(account, Modes.Live, webhook.Id, null, 10, 0, Ct));
        Assert.Null(await Store.ListWebhookDeliveriesAsync(account, Modes.Test, Ids.New(Ids.Webhook), null, 10, 0, Ct));

        Assert.True(await Store.DeleteWebhookAsync(account, Modes.Test, webhook.Id, T0 + TimeSpan.FromSeconds(1), Ct));

        var history = await Store.ListWebhookDeliveriesAsync(account, Modes.Test, webhook.Id, null, 10, 0, Ct);
        Assert.NotNull(history);
        var cancelled = Assert.Single(history);
        Assert.Equal(evt.Id, cancelled.EventId);
        Assert.Equal(DeliveryStatus.Cancelled, cancelled.Status);
    }

    // Replay of one event

    [Fact]
    public async Task Replay_requeues_a_finished_delivery_with_the_replay_trigger_and_its_new_deadline()
    {
        var account = await AccountAsync();
        await WebhookAsync(account, secret: [4, 4]);
        var evt = Event(account);
        await IngestAsync(evt);
        var first = Assert.Single(await LeaseAsync(T0));
        await CompleteAsync(T0 + TimeSpan.FromSeconds(1), Failure(first, T0, retryAt: null, status: 410));
        var now = T0 + TimeSpan.FromDays(3);
        var deadline = now + TimeSpan.FromHours(24);

        var result = await Store.ReplayEventAsync(account, Modes.Test, evt.Id, null, now, deadline, Ct);

        Assert.Equal(new ReplayResult(ReplayStatus.Queued, 1), result);
        var queued = Assert.Single(await Store.ListEventDeliveriesAsync(evt.Id, Ct));
        Assert.Equal(first.Id, queued.Id);
        Assert.Equal(DeliveryStatus.Pending, queued.Status);
        Assert.Equal(now, queued.NextAttemptAt);
        Assert.Null(queued.CompletedAt);
        var replayed = Assert.Single(await LeaseAsync(now));
        Assert.Equal(first.Id, replayed.Id);
        Assert.Equal(AttemptTrigger.Replay, replayed.Trigger);
        Assert.Equal(deadline, replayed.Deadline);
        Assert.Equal(1, replayed.AttemptsMade);
        Assert.Equal(evt.Body, replayed.Body);
        Assert.Equal([4, 4], replayed.SecretCiphertext);

        await CompleteAsync(now + TimeSpan.FromSeconds(1), Success(replayed, now));

        var detail = await DeliveryAsync(account, first.Id);
        Assert.Equal(DeliveryStatus.Succeeded, detail.Delivery.Status);
        Assert.Equal([AttemptTrigger.Initial, AttemptTrigger.Replay], detail.Attempts.Select(a => a.Trigger));
        Assert.Equal([410, 200], detail.Attempts.Select(a => a.StatusCode));
    }

    [Fact]
    public async Task Replay_reaches_only_webhooks_that_had_a_delivery_and_optionally_just_one()
    {
        var account = await AccountAsync();
        var first = await WebhookAsync(account);
        var second = await WebhookAsync(account);
        await WebhookAsync(account, events: ["payment.failed"]);
        var evt = Event(account);
        await IngestAsync(evt);
        var leased = await LeaseAsync(T0);
        await CompleteAsync(T0 + TimeSpan.FromSeconds(1), [.. leased.Select(d => Success(d, T0))]);
        var later = await WebhookAsync(account);
        var now = T0 + TimeSpan.FromHours(1);

        Assert.Equal(new ReplayResult(ReplayStatus.NoSubscribedWebhook, 0), await Store.ReplayEventAsync(account, Modes.Test, evt.Id, later.Id, now, now + TimeSpan.FromDays(1), Ct));
        Assert.Empty(await LeaseAsync(now));

        var one = await Store.ReplayEventAsync(account, Modes.Test, evt.Id, second.Id, now, now + TimeSpan.FromDays(1), Ct);

        Assert.Equal(new ReplayResult(ReplayStatus.Queued, 1), one);
        Assert.Equal(second.Id, Assert.Single(await LeaseAsync(now)).WebhookId);

        // The second webhook's delivery is still leased (in flight), so only the first one is queued anew.
        var all = await Store.ReplayEventAsync(account, Modes.Test, evt.Id, null, now + TimeSpan.FromSeconds(10), now + TimeSpan.FromDays(1), Ct);

        Assert.Equal(ReplayStatus.Queued, all.Status);
        Assert.Equal(2, all.Queued);
        Assert.Equal(first.Id, Assert.Single(await LeaseAsync(now + TimeSpan.FromSeconds(10))).WebhookId);
        Assert.Equal(2, (await Store.ListEventDeliveriesAsync(evt.Id, Ct)).Count);
    }

    [Fact]
    public async Task Replay_of_an_unknown_or_foreign_event_is_not_found()
    {
        var account = await AccountAsync();
        var other = await AccountAsync();
        await WebhookAsync(account);
        var evt = Event(account);
        await IngestAsync(evt);

        Assert.Equal(ReplayStatus.EventNotFound, (await Store.ReplayEventAsync(other, Modes.Test, evt.Id, null, T0, T0 + TimeSpan.FromDays(1), Ct)).Status);
        Assert.Equal(ReplayStatus.EventNotFound, (await Store.ReplayEventAsync(account, Modes.Live, evt.Id, null, T0, T0 + TimeSpan.FromDays(1), Ct)).Status);
        Assert.Equal(ReplayStatus.EventNotFound, (await Store.ReplayEventAsync(account, Modes.Test, Ids.New(Ids.Event), null, T0, T0 + TimeSpan.FromDays(1), Ct)).Status);
    }

    [Fact]
    public async Task Replay_to_a_disabled_or_deleted_webhook_is_refused_and_changes_nothing()
    {
        var account = await AccountAsync();
        var disabled = await WebhookAsync(account);
        var deleted = await WebhookAsync(account);
        var evt = Event(account);
        await IngestAsync(evt);
        var leased = await LeaseAsync(T0);
        await CompleteAsync(T0 + TimeSpan.FromSeconds(1), [.. leased.Select(d => Success(d, T0))]);
        await Store.UpdateWebhookAsync(account, Modes.Test, disabled.Id, new WebhookChanges(Active: false), T0 + TimeSpan.FromMinutes(1), Ct);
        await Store.DeleteWebhookAsync(account, Modes.Test, deleted.Id, T0 + TimeSpan.FromMinutes(1), Ct);
        var now = T0 + TimeSpan.FromHours(1);

        Assert.Equal(new ReplayResult(ReplayStatus.WebhookDisabled, 0), await Store.ReplayEventAsync(account, Modes.Test, evt.Id, disabled.Id, now, now + TimeSpan.FromDays(1), Ct));
        Assert.Equal(new ReplayResult(ReplayStatus.WebhookDisabled, 0), await Store.ReplayEventAsync(account, Modes.Test, evt.Id, null, now, now + TimeSpan.FromDays(1), Ct));

        Assert.All(await Store.ListEventDeliveriesAsync(evt.Id, Ct), d => Assert.Equal(DeliveryStatus.Succeeded, d.Status));
        Assert.Empty(await LeaseAsync(now + TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public async Task Replay_of_a_skipped_delivery_after_re_enabling_queues_it()
    {
        var account = await AccountAsync();
        var webhook = await WebhookAsync(account, active: false);
        var evt = Event(account);
        await IngestAsync(evt);
        var now = T0 + TimeSpan.FromHours(1);
        await Store.UpdateWebhookAsync(account, Modes.Test, webhook.Id, new WebhookChanges(Active: true), now, Ct);

        var result = await Store.ReplayEventAsync(account, Modes.Test, evt.Id, webhook.Id, now, now + TimeSpan.FromDays(1), Ct);

        Assert.Equal(new ReplayResult(ReplayStatus.Queued, 1), result);
        var replayed = Assert.Single(await LeaseAsync(now));
        Assert.Equal(AttemptTrigger.Replay, replayed.Trigger);
        Assert.Equal(0, replayed.AttemptsMade);
    }

    [Fact]
    public async Task Replay_counts_a_delivery_in_flight_but_leaves_its_lease_alone()
    {
        var account = await AccountAsync();
        await WebhookAsync(account);
        var evt = Event(account);
        await IngestAsync(evt);
        var inFlight = Assert.Single(await LeaseAsync(T0));
        var now = T0 + TimeSpan.FromSeconds(5);

        var result = await Store.ReplayEventAsync(account, Modes.Test, evt.Id, null, now, now + TimeSpan.FromDays(1), Ct);

        Assert.Equal(new ReplayResult(ReplayStatus.Queued, 1), result);
        Assert.Empty(await LeaseAsync(now + TimeSpan.FromSeconds(1), owner: "worker-b"));
        var report = await CompleteAsync(now + TimeSpan.FromSeconds(2), Success(inFlight, T0));
        Assert.Equal(1, report.Applied);
        var detail = await DeliveryAsync(account, inFlight.Id);
        Assert.Equal(DeliveryStatus.Succeeded, detail.Delivery.Status);
        Assert.Equal(AttemptTrigger.Initial, Assert.Single(detail.Attempts).Trigger);
    }

    // Bulk replay of a webhook

    [Fact]
    public async Task Bulk_replay_queues_the_webhooks_deliveries_matching_status_names_and_inclusive_window()
    {
        var account = await AccountAsync();
        var webhook = await WebhookAsync(account);
        var bystander = await WebhookAsync(account);
        var events = new[]
        {
            Event(account, at: T0),                                                   // failed
            Event(account, name: "payment.failed", at: T0 + TimeSpan.FromMinutes(1)), // failed
            Event(account, at: T0 + TimeSpan.FromMinutes(2)),                         // succeeded
            Event(account, at: T0 + TimeSpan.FromMinutes(10)),                        // failed, outside the window
        };
        foreach (var evt in events)
        {
            await IngestAsync(evt);
        }

        var now = T0 + TimeSpan.FromMinutes(20);
        var leased = await LeaseAsync(now);
        await CompleteAsync(now, [.. leased.Select(d => d.EventId == events[2].Id ? Success(d, now) : Failure(d, now, retryAt: null))]);
        var later = now + TimeSpan.FromMinutes(1);
        WebhookReplay Replay(string[] statuses, string[]? names)
            => new(account, Modes.Test, webhook.Id, T0, T0 + TimeSpan.FromMinutes(2), statuses, names, later, later + TimeSpan.FromDays(1));

        Assert.Equal(0, await Store.ReplayWebhookAsync(Replay([DeliveryStatus.Skipped], null), Ct));
        Assert.Equal(1, await Store.ReplayWebhookAsync(Replay([DeliveryStatus.Failed], ["payment.captured"]), Ct));

        var first = Assert.Single(await LeaseAsync(later));
        Assert.Equal(events[0].Id, first.EventId);
        Assert.Equal(webhook.Id, first.WebhookId);
        Assert.Equal(AttemptTrigger.Replay, first.Trigger);
        Assert.Equal(later + TimeSpan.FromDays(1), first.Deadline);

        Assert.Equal(2, await Store.ReplayWebhookAsync(Replay([DeliveryStatus.Failed, DeliveryStatus.Succeeded], null), Ct));

        var rest = await LeaseAsync(later + TimeSpan.FromSeconds(1));
        Assert.Equal(new[] { events[1].Id, events[2].Id }.Order(), rest.Select(d => d.EventId).Order());
        Assert.All(rest, d => Assert.Equal(webhook.Id, d.WebhookId));
        var outside = Assert.Single(await Store.ListEventDeliveriesAsync(events[3].Id, Ct), d => d.WebhookId == webhook.Id);
        Assert.Equal(DeliveryStatus.Failed, outside.Status);
        Assert.All(await Store.ListWebhookDeliveriesAsync(account, Modes.Test, bystander.Id, null, 10, 0, Ct) ?? [],
            d => Assert.NotEqual(DeliveryStatus.Pending, d.Status));
        Assert.Equal(0, await Store.ReplayWebhookAsync(Replay([DeliveryStatus.Failed], null) with { AccountId = await AccountAsync() }, Ct));
    }

    // Test fire

    [Fact]
    public async Task Test_fire_creates_one_delivery_to_its_target_only_with_the_test_trigger()
    {
        var account = await AccountAsync();
        var target = await WebhookAsync(account, events: ["payment.failed"]);
        var subscribed = await WebhookAsync(account, events: ["*"]);
        var evt = Event(account, name: "payment.captured");

        var result = await Store.IngestAsync(new IngestBatch([evt], null, null, Grant(T0 + LeaseFor), target.Id), Ct);

        Assert.Equal(IngestStatus.Created, result.Status);
        Assert.Equal(1, Assert.Single(result.Events).Deliveries);
        var leased = Assert.Single(result.Leased);
        Assert.Equal(target.Id, leased.WebhookId);
        Assert.Equal(AttemptTrigger.Test, leased.Trigger);
        var delivery = Assert.Single(await Store.ListEventDeliveriesAsync(evt.Id, Ct));
        Assert.Equal(target.Id, delivery.WebhookId);
        Assert.Empty((await Store.ListWebhookDeliveriesAsync(account, Modes.Test, subscribed.Id, null, 10, 0, Ct))!);

        var polled = Event(account, name: "payment.captured", at: T0 + TimeSpan.FromSeconds(1));
        await Store.IngestAsync(new IngestBatch([polled], null, null, null, target.Id), Ct);
        var fromPoll = Assert.Single(await LeaseAsync(T0 + TimeSpan.FromSeconds(2)));
        Assert.Equal(polled.Id, fromPoll.EventId);
        Assert.Equal(AttemptTrigger.Test, fromPoll.Trigger);
        await CompleteAsync(T0 + TimeSpan.FromSeconds(3), Success(fromPoll, T0 + TimeSpan.FromSeconds(2)));
        Assert.Equal(AttemptTrigger.Test, Assert.Single((await DeliveryAsync(account, fromPoll.Id)).Attempts).Trigger);
    }

    [Fact]
    public async Task Test_fire_to_an_unknown_or_foreign_webhook_stores_nothing()
    {
        var account = await AccountAsync();
        var other = await AccountAsync();
        var foreign = await WebhookAsync(other);
        var liveWebhook = await WebhookAsync(account, mode: Modes.Live);
        await WebhookAsync(account);

        foreach (var target in new[] { Ids.New(Ids.Webhook), foreign.Id, liveWebhook.Id })
        {
            var evt = Event(account);
            var result = await Store.IngestAsync(new IngestBatch([evt], null, null, Grant(T0 + LeaseFor), target), Ct);

            Assert.Equal(IngestStatus.UnknownWebhook, result.Status);
            Assert.Empty(result.Events);
            Assert.Empty(result.Leased);
            Assert.Null(await Store.GetEventAsync(account, Modes.Test, evt.Id, Ct));
        }

        Assert.Empty(await Store.CountDeliveriesAsync(Ct));
    }

    // Audit log

    [Fact]
    public async Task Audit_entries_are_appended_on_create_update_and_delete_and_listed_in_order()
    {
        var account = await AccountAsync();
        var id = Ids.New(Ids.Webhook);
        var webhook = new Webhook(id, account, Modes.Test, Products.Payments, "https://audit.example/hook", ["*"], true, null, null, T0, T0, null, null, null);
        await Store.CreateWebhookAsync(webhook, null, Ct, new AuditEntry("hk_test_creator", "create", """{"url":"https://audit.example/hook"}"""));
        await Store.UpdateWebhookAsync(account, Modes.Test, id, new WebhookChanges(Url: "https://moved.example/hook"), T0 + TimeSpan.FromMinutes(1), Ct,
            new AuditEntry("hk_test_editor", "update", """{"url":"https://moved.example/hook"}"""));
        await Store.UpdateWebhookAsync(account, Modes.Test, id, new WebhookChanges(Active: false), T0 + TimeSpan.FromMinutes(2), Ct);
        var secret = new WebhookSecret(Ids.New(Ids.Secret), id, [9], T0 + TimeSpan.FromMinutes(3));
        await Store.UpdateWebhookAsync(account, Modes.Test, id, new WebhookChanges(NewSecret: secret), T0 + TimeSpan.FromMinutes(3), Ct,
            new AuditEntry("hk_test_editor", "update", """{"secret":"rotated"}"""));
        await Store.DeleteWebhookAsync(account, Modes.Test, id, T0 + TimeSpan.FromMinutes(4), Ct, new AuditEntry("hk_test_editor", "delete", "{}"));

        var log = await Store.ListAuditAsync(account, Modes.Test, id, Ct);

        Assert.Equal(["create", "update", "update", "delete"], log.Select(a => a.Action));
        Assert.Equal(["hk_test_creator", "hk_test_editor", "hk_test_editor", "hk_test_editor"], log.Select(a => a.Actor));
        Assert.Equal([T0, T0 + TimeSpan.FromMinutes(1), T0 + TimeSpan.FromMinutes(3), T0 + TimeSpan.FromMinutes(4)], log.Select(a => a.At));
        Assert.Equal("""{"secret":"rotated"}""", log[2].Changes);
        Assert.All(log, a => Assert.Equal(id, a.WebhookId));
        Assert.Equal(log.Select(a => a.Id).Order(), log.Select(a => a.Id));
        Assert.Equal(log.Count, log.Select(a => a.Id).Distinct().Count());
        Assert.Empty(await Store.ListAuditAsync(await AccountAsync(), Modes.Test, id, Ct));
        Assert.Empty(await Store.ListAuditAsync(account, Modes.Live, id, Ct));
    }

    [Fact]
    public async Task Failed_change_appends_no_audit_entry()
    {
        var account = await AccountAsync();
        var other = await AccountAsync();
        var webhook = await WebhookAsync(account);

        Assert.Null(await Store.UpdateWebhookAsync(other, Modes.Test, webhook.Id, new WebhookChanges(Url: "https://x.example/hook"), T0, Ct, new AuditEntry("intruder", "update", "{}")));
        Assert.False(await Store.DeleteWebhookAsync(other, Modes.Test, webhook.Id, T0, Ct, new AuditEntry("intruder", "delete", "{}")));

        Assert.Empty(await Store.ListAuditAsync(account, Modes.Test, webhook.Id, Ct));
        Assert.Empty(await Store.ListAuditAsync(other, Modes.Test, webhook.Id, Ct));
    }
}
