using System.Text;
using Hookline.Core;
using Hookline.Core.Accounts;
using Hookline.Core.Delivery;
using Hookline.Core.Events;
using Hookline.Core.Storage;
using Hookline.Core.Webhooks;

namespace Hookline.Tests.StoreContract;

/// <summary>
/// The behaviour every <see cref="IHooklineStore"/> must have, written once and subclassed per provider
/// (SQLite now, PostgreSQL next). Each test gets a fresh, migrated, empty store. Time is never read from a
/// clock: every instant is an offset from <see cref="T0"/>, passed to the store explicitly.
/// </summary>
/// <remarks>
/// The hooks are <c>private protected</c>, not <c>protected</c>: the ports are internal, and xunit needs
/// public test classes, so a <c>protected</c> member typed with them would not compile (CS0051). This file is
/// linked into each provider's test assembly, where the internals are visible.
/// </remarks>
public abstract partial class StoreContractTests : IAsyncLifetime
{
    private protected static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private protected static readonly TimeSpan LeaseFor = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan DisableAfter = TimeSpan.FromHours(1);

    // A hung store fails the test instead of the run.
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromMinutes(2));
    private IHooklineStore? _store;

    private protected IHooklineStore Store => _store ?? throw new InvalidOperationException("The store is not open.");

    protected CancellationToken Ct => _timeout.Token;

    /// <summary>A fresh, migrated, empty store for one test.</summary>
    private protected abstract Task<IHooklineStore> CreateStoreAsync();

    /// <summary>
    /// A new store on the same data as the one <see cref="CreateStoreAsync"/> made, as after a process restart.
    /// The previous instance is already disposed. Abstract rather than optional: xunit 2 cannot skip at run
    /// time, a test that silently passes for a provider cannot fail, and every durable provider can reopen.
    /// </summary>
    private protected abstract Task<IHooklineStore> ReopenStoreAsync();

    /// <summary>
    /// From now on the store's database refuses to record any attempt of <paramref name="deliveryId"/>, with an error
    /// of the kind a constraint raises: how a bug in what a results batch holds would show.
    /// </summary>
    private protected abstract Task RefuseAttemptsOfAsync(string deliveryId);

    /// <summary>Removes what <see cref="CreateStoreAsync"/> created (a file, a database); the store is disposed.</summary>
    protected virtual Task DeleteStoreDataAsync() => Task.CompletedTask;

    public async Task InitializeAsync() => _store = await CreateStoreAsync();

    public async Task DisposeAsync()
    {
        await CloseAsync();
        await DeleteStoreDataAsync();
        _timeout.Dispose();
    }

    // Ingestion: atomicity

    [Fact]
    public async Task Batch_naming_an_unknown_account_commits_nothing()
    {
        var account = await AccountAsync();
        await WebhookAsync(account);
        var known = Event(account);
        var unknownAccount = Ids.New(Ids.Account);

        var result = await Store.IngestAsync(new IngestBatch([known, Event(unknownAccount)], "key-unknown", [1], null), Ct);

        Assert.Equal(IngestStatus.UnknownAccount, result.Status);
        Assert.Equal(unknownAccount, result.UnknownAccountId);
        Assert.Empty(result.Events);
        Assert.Empty(result.Leased);
        Assert.Null(await Store.GetEventAsync(account, Modes.Test, known.Id, Ct));
        Assert.Empty(await Store.ListEventDeliveriesAsync(known.Id, Ct));
        Assert.Empty(await Store.CountDeliveriesAsync(Ct));
    }

    [Fact]
    public async Task Rejected_batch_does_not_consume_its_idempotency_key()
    {
        var account = await AccountAsync();
        var unknown = Event(Ids.New(Ids.Account));
        var rejected = await Store.IngestAsync(new IngestBatch([unknown], "key-1", [1, 2], null), Ct);
        Assert.Equal(IngestStatus.UnknownAccount, rejected.Status);

        var retried = await Store.IngestAsync(new IngestBatch([Event(account)], "key-1", [1, 2], null), Ct);

        Assert.Equal(IngestStatus.Created, retried.Status);
    }

    [Fact]
    public async Task Ingested_event_comes_back_with_its_deliveries()
    {
        var account = await AccountAsync();
        var first = await WebhookAsync(account);
        var second = await WebhookAsync(account);
        var evt = Event(account);

        var ingested = await IngestAsync(evt);

        Assert.Equal(evt.Id, ingested.Id);
        Assert.Equal(evt.CreatedAt, ingested.CreatedAt);
        Assert.Equal(2, ingested.Deliveries);
        Assert.Equal(0, ingested.Skipped);
        var stored = await Store.GetEventAsync(account, Modes.Test, evt.Id, Ct);
        Assert.NotNull(stored);
        Assert.Equal(evt.Body, stored.Body);
        Assert.Equal(evt.Name, stored.Name);
        Assert.Equal(evt.CreatedAt, stored.CreatedAt);
        var deliveries = await Store.ListEventDeliveriesAsync(evt.Id, Ct);
        Assert.Equal(new[] { first.Id, second.Id }.Order(), deliveries.Select(d => d.WebhookId).Order());
        Assert.All(deliveries, d =>
        {
            Assert.Equal(DeliveryStatus.Pending, d.Status);
            Assert.Equal(evt.Id, d.EventId);
            Assert.Equal(0, d.Attempts);
            Assert.Equal(evt.CreatedAt, d.CreatedAt);
            Assert.Equal(evt.CreatedAt, d.NextAttemptAt);
            Assert.Null(d.CompletedAt);
        });
    }

    [Fact]
    public async Task Batch_commits_every_event_in_order_with_its_deliveries()
    {
        var account = await AccountAsync();
        await WebhookAsync(account, events: ["payment.captured"]);
        var events = new[] { Event(account), Event(account, name: "payment.failed"), Event(account) };

        var result = await Store.IngestAsync(new IngestBatch(events, null, null, null), Ct);

        Assert.Equal(IngestStatus.Created, result.Status);
        Assert.Equal(events.Select(e => e.Id), result.Events.Select(e => e.Id));
        Assert.Equal([1, 0, 1], result.Events.Select(e => e.Deliveries));
        foreach (var evt in events)
        {
            Assert.NotNull(await Store.GetEventAsync(account, Modes.Test, evt.Id, Ct));
        }
    }

    [Fact]
    public async Task Reader_never_sees_an_event_without_its_deliveries()
    {
        const int Webhooks = 3;
        var account = await AccountAsync();
        for (var i = 0; i < Webhooks; i++)
        {
            await WebhookAsync(account);
        }

        var events = Enumerable.Range(0, 40).Select(_ => Event(account)).ToArray();
        var torn = new List<string>();
        var seen = 0;
        using var stop = new CancellationTokenSource();

        // The reader looks at the event first and its deliveries second: if the event was visible, everything
        // committed with it must be visible to the later read.
        var reader = Task.Run(async () =>
        {
            bool last;
            do
            {
                // One more full pass after ingestion stops, so the reader sees every event at least once.
                last = stop.IsCancellationRequested;
                foreach (var evt in events)
                {
                    if (await Store.GetEventAsync(account, Modes.Test, evt.Id, Ct) is null)
                    {
                        continue;
                    }

                    seen++;
                    var count = (await Store.ListEventDeliveriesAsync(evt.Id, Ct)).Count;
                    if (count != Webhooks)
                    {
                        torn.Add($"{evt.Id}: {count} deliveries");
                    }
                }
            }
            while (!last);
        });

        foreach (var evt in events)
        {
            await IngestAsync(evt);
        }

        await stop.CancelAsync();
        await reader;

        Assert.Empty(torn);
        Assert.True(seen >= events.Length);
    }

    // Ingestion: which webhooks get a delivery

    [Fact]
    public async Task Event_is_delivered_only_to_webhooks_of_its_account_mode_and_product()
    {
        var account = await AccountAsync();
        var other = await AccountAsync();
        var matching = await WebhookAsync(account);
        await WebhookAsync(account, mode: Modes.Live);
        await WebhookAsync(account, product: Products.Payouts);
        await WebhookAsync(other);
        var evt = Event(account);

        var ingested = await IngestAsync(evt);

        Assert.Equal(1, ingested.Deliveries);
        var delivery = Assert.Single(await Store.ListEventDeliveriesAsync(evt.Id, Ct));
        Assert.Equal(matching.Id, delivery.WebhookId);
    }

    [Fact]
    public async Task Webhook_gets_a_delivery_for_a_subscribed_name_or_star_only()
    {
        var account = await AccountAsync();
        var byName = await WebhookAsync(account, events: ["payment.failed", "payment.captured"]);
        var star = await WebhookAsync(account, events: ["*"]);
        await WebhookAsync(account, events: ["payment.failed"]);
        var evt = Event(account, name: "payment.captured");

        await IngestAsync(evt);

        var deliveries = await Store.ListEventDeliveriesAsync(evt.Id, Ct);
        Assert.Equal(new[] { byName.Id, star.Id }.Order(), deliveries.Select(d => d.WebhookId).Order());
    }

    [Fact]
    public async Task Disabled_webhook_gets_a_skipped_delivery_that_is_never_leased()
    {
        var account = await AccountAsync();
        var disabled = await WebhookAsync(account, active: false);
        var evt = Event(account);

        var result = await Store.IngestAsync(new IngestBatch([evt], null, null, Grant(T0 + LeaseFor)), Ct);

        var ingested = Assert.Single(result.Events);
        Assert.Equal(1, ingested.Deliveries);
        Assert.Equal(1, ingested.Skipped);
        Assert.Empty(result.Leased);
        Assert.Equal(0, result.LeftForLeaseRounds);
        var delivery = Assert.Single(await Store.ListEventDeliveriesAsync(evt.Id, Ct));
        Assert.Equal(disabled.Id, delivery.WebhookId);
        Assert.Equal(DeliveryStatus.Skipped, delivery.Status);
        Assert.Null(delivery.NextAttemptAt);
        Assert.NotNull(delivery.CompletedAt);
        Assert.Empty(await LeaseAsync(T0 + TimeSpan.FromDays(1)));
    }

    [Fact]
    public async Task Deleted_webhook_gets_no_delivery()
    {
        var account = await AccountAsync();
        var deleted = await WebhookAsync(account);
        Assert.True(await Store.DeleteWebhookAsync(account, Modes.Test, deleted.Id, T0, Ct));
        var evt = Event(account);

        var ingested = await IngestAsync(evt);

        Assert.Equal(0, ingested.Deliveries);
        Assert.Empty(await Store.ListEventDeliveriesAsync(evt.Id, Ct));
        Assert.Empty(await LeaseAsync(T0 + TimeSpan.FromDays(1)));
    }

    // Ingestion: idempotency

    [Fact]
    public async Task Same_idempotency_key_and_hash_replays_the_first_answer_and_stores_nothing_new()
    {
        var account = await AccountAsync();
        await WebhookAsync(account);
        var first = Event(account);
        var created = await Store.IngestAsync(new IngestBatch([first], "key-1", [1, 2, 3], null), Ct);
        var again = Event(account, at: T0 + TimeSpan.FromSeconds(5));

        var replayed = await Store.IngestAsync(new IngestBatch([again], "key-1", [1, 2, 3], Grant(T0 + LeaseFor)), Ct);

        Assert.Equal(IngestStatus.Created, created.Status);
        Assert.Equal(IngestStatus.Replayed, replayed.Status);
        Assert.Equal(created.Events, replayed.Events);
        Assert.Empty(replayed.Leased);
        // The first ingestion, with no grant, left its delivery to lease rounds; the replayed answer queued nothing
        // (the dispatcher announces work to its resting ordinary round only on the first).
        Assert.Equal(1, created.LeftForLeaseRounds);
        Assert.Equal(0, replayed.LeftForLeaseRounds);
        Assert.Null(await Store.GetEventAsync(account, Modes.Test, again.Id, Ct));
        Assert.Equal(1, Count(await Store.CountDeliveriesAsync(Ct), DeliveryStatus.Pending));
    }

    [Fact]
    public async Task Same_idempotency_key_with_another_hash_is_a_conflict_and_stores_nothing()
    {
        var account = await AccountAsync();
        await WebhookAsync(account);
        await Store.IngestAsync(new IngestBatch([Event(account)], "key-1", [1, 2, 3], null), Ct);
        var other = Event(account);

        var conflict = await Store.IngestAsync(new IngestBatch([other], "key-1", [9, 9, 9], null), Ct);

        Assert.Equal(IngestStatus.IdempotencyConflict, conflict.Status);
        Assert.Empty(conflict.Events);
        Assert.Null(await Store.GetEventAsync(account, Modes.Test, other.Id, Ct));
        Assert.Equal(1, Count(await Store.CountDeliveriesAsync(Ct), DeliveryStatus.Pending));
    }

    [Fact]
    public async Task Eight_parallel_ingestions_with_one_key_and_hash_create_exactly_one_event()
    {
        var account = await AccountAsync();
        await WebhookAsync(account);
        var candidates = Enumerable.Range(0, 8).Select(_ => Event(account)).ToArray();

        var results = await Task.WhenAll(candidates.Select(evt =>
            Task.Run(() => Store.IngestAsync(new IngestBatch([evt], "key-parallel", [4, 2], null), Ct))));

        Assert.Single(results, r => r.Status == IngestStatus.Created);
        Assert.All(results, r => Assert.Contains(r.Status, new[] { IngestStatus.Created, IngestStatus.Replayed }));
        var eventId = Assert.Single(results.Select(r => Assert.Single(r.Events).Id).Distinct());
        var stored = 0;
        foreach (var evt in candidates)
        {
            stored += await Store.GetEventAsync(account, Modes.Test, evt.Id, Ct) is null ? 0 : 1;
        }

        Assert.Equal(1, stored);
        Assert.Contains(candidates, e => e.Id == eventId);
        Assert.Equal(1, Count(await Store.CountDeliveriesAsync(Ct), DeliveryStatus.Pending));
    }

    // Leasing

    [Fact]
    public async Task Ingestion_with_a_lease_grant_hands_back_its_deliveries_already_leased()
    {
        var account = await AccountAsync();
        var webhook = await WebhookAsync(account, secret: [7, 7, 7]);
        var evt = Event(account);
        var grant = Grant(T0 + LeaseFor);

        var result = await Store.IngestAsync(new IngestBatch([evt], null, null, grant), Ct);

        var leased = Assert.Single(result.Leased);
        Assert.Equal(evt.Id, leased.EventId);
        Assert.Equal(webhook.Id, leased.WebhookId);
        Assert.Equal(account, leased.AccountId);
        Assert.Equal(webhook.Url, leased.Url);
        Assert.Equal(evt.Body, leased.Body);
        Assert.Equal(evt.CreatedAt, leased.EventCreatedAt);
        Assert.Equal([7, 7, 7], leased.SecretCiphertext);
        Assert.Equal(0, leased.AttemptsMade);
        Assert.Equal(AttemptTrigger.Initial, leased.Trigger);
        Assert.True(leased.LeaseToken > 0);
        Assert.Equal(grant.ExpiresAt, leased.LeaseExpiresAt);
        Assert.Equal(leased.Id, Assert.Single(await Store.ListEventDeliveriesAsync(evt.Id, Ct)).Id);

        Assert.Empty(await LeaseAsync(grant.ExpiresAt - TimeSpan.FromSeconds(1), owner: "worker-b"));
        var takenOver = Assert.Single(await LeaseAsync(grant.ExpiresAt + TimeSpan.FromSeconds(1), owner: "worker-b"));
        Assert.Equal(leased.Id, takenOver.Id);
        Assert.True(takenOver.LeaseToken > leased.LeaseToken);
    }

    [Fact]
    public async Task Ingestion_leases_no_more_than_its_grant_allows_and_leaves_the_rest_to_polling()
    {
        var account = await AccountAsync();
        var first = await WebhookAsync(account);
        var second = await WebhookAsync(account);
        var full = await WebhookAsync(account);
        var events = Enumerable.Range(0, 3).Select(i => Event(account, at: T0 + TimeSpan.FromMilliseconds(i))).ToArray();
        var grant = new LeaseGrant("worker-a", T0 + LeaseFor, MaxDeliveries: 3, MaxPerWebhook: 2, ExcludedWebhooks: [full.Id]);

        var result = await Store.IngestAsync(new IngestBatch(events, null, null, grant), Ct);

        Assert.Equal(3, result.Leased.Count);
        Assert.All(result.Leased, d => Assert.Contains(d.WebhookId, new[] { first.Id, second.Id }));
        Assert.All(result.Leased.CountBy(d => d.WebhookId), c => Assert.True(c.Value <= 2));
        Assert.Equal(9, result.Events.Sum(e => e.Deliveries));
        Assert.Equal(6, result.LeftForLeaseRounds);
        var polled = await LeaseAsync(T0 + TimeSpan.FromSeconds(1), owner: "worker-b");
        Assert.Equal(6, polled.Count);
        Assert.Equal(3, polled.Count(d => d.WebhookId == full.Id));
        Assert.Empty(polled.Select(d => d.Id).Intersect(result.Leased.Select(d => d.Id)));
    }

    [Fact]
    public async Task A_webhook_the_grant_names_as_deeper_takes_its_own_share_and_the_others_the_common_one()
    {
        var account = await AccountAsync();
        var fast = await WebhookAsync(account);
        var other = await WebhookAsync(account);
        var events = Enumerable.Range(0, 5).Select(i => Event(account, at: T0 + TimeSpan.FromMilliseconds(i))).ToArray();
        var grant = new LeaseGrant("worker-a", T0 + LeaseFor, MaxDeliveries: 100, MaxPerWebhook: 1, ExcludedWebhooks: [])
        {
            Deeper = new Dictionary<string, int> { [fast.Id] = 4 },
        };

        var result = await Store.IngestAsync(new IngestBatch(events, null, null, grant), Ct);

        Assert.Equal(4, result.Leased.Count(d => d.WebhookId == fast.Id));
        Assert.Equal(1, result.Leased.Count(d => d.WebhookId == other.Id));
        var polled = await LeaseAsync(T0 + TimeSpan.FromSeconds(1), owner: "worker-b");
        Assert.Equal((1, 4), (polled.Count(d => d.WebhookId == fast.Id), polled.Count(d => d.WebhookId == other.Id)));
    }

    [Fact]
    public async Task Ingestion_leases_at_most_the_grants_share_for_each_webhook()
    {
        var account = await AccountAsync();
        await WebhookAsync(account);
        var events = Enumerable.Range(0, 3).Select(i => Event(account, at: T0 + TimeSpan.FromMilliseconds(i))).ToArray();
        var grant = new LeaseGrant("worker-a", T0 + LeaseFor, MaxDeliveries: 100, MaxPerWebhook: 2, ExcludedWebhooks: []);

        var result = await Store.IngestAsync(new IngestBatch(events, null, null, grant), Ct);

        Assert.Equal(2, result.Leased.Count);
        Assert.Equal(1, result.LeftForLeaseRounds);
        var rest = Assert.Single(await LeaseAsync(T0 + TimeSpan.FromSeconds(1), owner: "worker-b"));
        Assert.DoesNotContain(rest.Id, result.Leased.Select(d => d.Id));
    }

    [Fact]
    public async Task Granted_deliveries_read_as_pending_until_their_first_result_and_take_it_once()
    {
        var account = await AccountAsync();
        var webhook = await WebhookAsync(account);
        var events = Enumerable.Range(0, 3).Select(i => Event(account, at: T0 + TimeSpan.FromMilliseconds(i))).ToArray();
        var ingested = await Store.IngestAsync(new IngestBatch(events, null, null, Grant(T0 + LeaseFor)), Ct);
        var leased = ingested.Leased;
        Assert.Equal(3, leased.Count);
        Assert.Equal(0, ingested.LeftForLeaseRounds);

        // Every read sees them as the pending deliveries they are, whatever the store keeps.
        var listed = Assert.Single(await Store.ListEventDeliveriesAsync(events[0].Id, Ct));
        Assert.Equal((leased[0].Id, DeliveryStatus.Pending, 0, T0), (listed.Id, listed.Status, listed.Attempts, listed.CreatedAt));
        var detail = await DeliveryAsync(account, leased[1].Id);
        Assert.Equal((DeliveryStatus.Pending, 0), (detail.Delivery.Status, detail.Attempts.Count));
        Assert.Equal(3, (await Store.ListWebhookDeliveriesAsync(account, Modes.Test, webhook.Id, DeliveryStatus.Pending, 10, 0, Ct))!.Count);
        Assert.Empty((await Store.ListWebhookDeliveriesAsync(account, Modes.Test, webhook.Id, DeliveryStatus.Succeeded, 10, 0, Ct))!);
        Assert.Equal(3, Count(await Store.CountDeliveriesAsync(Ct), DeliveryStatus.Pending));

        var first = await CompleteAsync(T0 + TimeSpan.FromSeconds(1),
            Success(leased[0], T0 + TimeSpan.FromMilliseconds(500)), Failure(leased[1], T0 + TimeSpan.FromMilliseconds(500), retryAt: T0 + TimeSpan.FromMinutes(1)));
        Assert.Equal((2, 0), (first.Applied, first.Discarded));
        var succeeded = await DeliveryAsync(account, leased[0].Id);
        Assert.Equal((DeliveryStatus.Succeeded, 1, 200), (succeeded.Delivery.Status, succeeded.Delivery.Attempts, succeeded.Delivery.LastStatusCode));
        Assert.Equal(T0 + TimeSpan.FromSeconds(1), succeeded.Delivery.CompletedAt);
        Assert.Equal(AttemptTrigger.Initial, Assert.Single(succeeded.Attempts).Trigger);
        var retrying = await DeliveryAsync(account, leased[1].Id);
        Assert.Equal((DeliveryStatus.Pending, 1, T0 + TimeSpan.FromMinutes(1)), (retrying.Delivery.Status, retrying.Delivery.Attempts, retrying.Delivery.NextAttemptAt));
        Assert.Null(retrying.Delivery.CompletedAt);
        Assert.Equal(500, retrying.Delivery.LastStatusCode);

        // The same results again (a commit whose answer was lost): nothing applies twice.
        var again = await CompleteAsync(T0 + TimeSpan.FromSeconds(2), Success(leased[0], T0 + TimeSpan.FromMilliseconds(500)));
        Assert.Equal((0, 1), (again.Applied, again.Discarded));
        Assert.Single((await DeliveryAsync(account, leased[0].Id)).Attempts);

        // Before its lease runs out the third is nobody else's, and the retry is not due yet.
        Assert.Empty(await LeaseAsync(T0 + TimeSpan.FromSeconds(10), owner: "worker-b"));
        var taken = await LeaseAsync(T0 + TimeSpan.FromMinutes(2), owner: "worker-b");
        Assert.Equal(new[] { leased[1].Id, leased[2].Id }.Order(), taken.Select(d => d.Id).Order());
        var retry = taken.Single(d => d.Id == leased[1].Id);
        Assert.Equal((1, AttemptTrigger.Retry), (retry.AttemptsMade, retry.Trigger));
        Assert.All(taken, d => Assert.True(d.LeaseToken > 1));

        // The first owner's result for the one taken over comes too late; the new owner's counts.
        var late = await CompleteAsync(T0 + TimeSpan.FromMinutes(2), Success(leased[2], T0 + TimeSpan.FromSeconds(20)));
        Assert.Equal((0, 1), (late.Applied, late.Discarded));
        var current = await CompleteAsync(T0 + TimeSpan.FromMinutes(3), Success(taken.Single(d => d.Id == leased[2].Id), T0 + TimeSpan.FromMinutes(2)));
        Assert.Equal((1, 0), (current.Applied, current.Discarded));
        Assert.Equal(AttemptTrigger.Initial, Assert.Single((await DeliveryAsync(account, leased[2].Id)).Attempts).Trigger);
        Assert.Equal(2, Count(await Store.CountDeliveriesAsync(Ct), DeliveryStatus.Succeeded));
        Assert.Equal(1, Count(await Store.CountDeliveriesAsync(Ct), DeliveryStatus.Pending));
    }

    [Fact]
    public async Task A_granted_deliverys_attempts_read_in_full_and_in_order_whatever_the_store_keeps()
    {
        var account = await AccountAsync();
        await WebhookAsync(account);
        var events = new[] { Event(account), Event(account, at: T0 + TimeSpan.FromMilliseconds(1)) };
        var leased = (await Store.IngestAsync(new IngestBatch(events, null, null, Grant(T0 + LeaseFor)), Ct)).Leased;
        var started = T0 + TimeSpan.FromMilliseconds(500);
        var retryAt = T0 + TimeSpan.FromMinutes(1);

        await CompleteAsync(T0 + TimeSpan.FromSeconds(1), Success(leased[0], started), Failure(leased[1], started, retryAt, status: 503));
        Assert.Equal(new AttemptRecord(1, AttemptTrigger.Initial, started, 120, 200, null, "ok"), Assert.Single((await DeliveryAsync(account, leased[0].Id)).Attempts));

        var retry = Assert.Single(await LeaseAsync(retryAt));
        await CompleteAsync(retryAt + TimeSpan.FromSeconds(1), Success(retry, retryAt));
        var detail = await DeliveryAsync(account, leased[1].Id);
        Assert.Equal((DeliveryStatus.Succeeded, 2, 200), (detail.Delivery.Status, detail.Delivery.Attempts, detail.Delivery.LastStatusCode));
        Assert.Equal(
            [
                new AttemptRecord(1, AttemptTrigger.Initial, started, 80, 503, AttemptError.HttpStatus.ToWire(), "busy"),
                new AttemptRecord(2, AttemptTrigger.Retry, retryAt, 120, 200, null, "ok"),
            ],
            detail.Attempts);
    }

    [Fact]
    public async Task Disabling_a_webhook_cancels_its_granted_deliveries_and_their_owners_result_is_discarded()
    {
        var account = await AccountAsync();
        var webhook = await WebhookAsync(account);
        var evt = Event(account);
        var leased = Assert.Single((await Store.IngestAsync(new IngestBatch([evt], null, null, Grant(T0 + LeaseFor)), Ct)).Leased);

        await Store.UpdateWebhookAsync(account, Modes.Test, webhook.Id, new WebhookChanges(Active: false), T0 + TimeSpan.FromSeconds(1), Ct);
        var report = await CompleteAsync(T0 + TimeSpan.FromSeconds(2), Success(leased, T0 + TimeSpan.FromMilliseconds(500)));

        Assert.Equal((0, 1), (report.Applied, report.Discarded));
        var delivery = Assert.Single(await Store.ListEventDeliveriesAsync(evt.Id, Ct));
        Assert.Equal((leased.Id, DeliveryStatus.Cancelled), (delivery.Id, delivery.Status));
        Assert.Empty(await LeaseAsync(T0 + TimeSpan.FromMinutes(5), owner: "worker-b"));
    }

    [Fact]
    public async Task Replaying_an_event_whose_granted_delivery_is_in_flight_counts_that_attempt()
    {
        var account = await AccountAsync();
        await WebhookAsync(account);
        var evt = Event(account);
        var leased = Assert.Single((await Store.IngestAsync(new IngestBatch([evt], null, null, Grant(T0 + LeaseFor)), Ct)).Leased);

        var replay = await Store.ReplayEventAsync(account, Modes.Test, evt.Id, null, T0 + TimeSpan.FromSeconds(1), T0 + TimeSpan.FromDays(1), Ct);
        var report = await CompleteAsync(T0 + TimeSpan.FromSeconds(2), Success(leased, T0 + TimeSpan.FromMilliseconds(500)));

        Assert.Equal(new ReplayResult(ReplayStatus.Queued, 1), replay);
        Assert.Equal((1, 0), (report.Applied, report.Discarded));
        Assert.Equal(DeliveryStatus.Succeeded, Assert.Single(await Store.ListEventDeliveriesAsync(evt.Id, Ct)).Status);
        Assert.Empty(await LeaseAsync(T0 + TimeSpan.FromMinutes(5), owner: "worker-b"));
    }

    [Fact]
    public async Task Workers_leasing_at_once_never_take_the_same_delivery()
    {
        var account = await AccountAsync();
        for (var i = 0; i < 4; i++)
        {
            await WebhookAsync(account);
        }

        var events = Enumerable.Range(0, 100).Select(i => Event(account, at: T0 + TimeSpan.FromMilliseconds(i))).ToArray();
        await Store.IngestAsync(new IngestBatch(events, null, null, null), Ct);

        // Eight workers race for 400 deliveries, 30 each at most; then one more round picks up whatever they left.
        var rounds = await Task.WhenAll(Enumerable.Range(0, 8).Select(w =>
            Task.Run(() => LeaseAsync(T0 + TimeSpan.FromSeconds(1), max: 30, perWebhook: 10, owner: $"worker-{w}"))));
        var raced = rounds.SelectMany(r => r).ToList();
        Assert.Equal(raced.Count, raced.Select(d => d.Id).Distinct().Count());
        Assert.All(rounds, r => Assert.True(r.Count <= 30 && r.GroupBy(d => d.WebhookId).All(g => g.Count() <= 10)));

        var rest = await LeaseAsync(T0 + TimeSpan.FromSeconds(2), max: 400, perWebhook: 400, owner: "worker-last");
        Assert.Empty(rest.Select(d => d.Id).Intersect(raced.Select(d => d.Id)));
        Assert.Equal(400, raced.Count + rest.Count);
    }

    [Fact]
    public async Task Lease_takes_due_deliveries_only_and_leaves_future_ones()
    {
        var account = await AccountAsync();
        await WebhookAsync(account);
        var due = Event(account, at: T0);
        var future = Event(account, at: T0 + TimeSpan.FromMinutes(10));
        await IngestAsync(due);
        await IngestAsync(future);

        var now = await LeaseAsync(T0 + TimeSpan.FromMinutes(1));
        var later = await LeaseAsync(T0 + TimeSpan.FromMinutes(10));

        Assert.Equal(due.Id, Assert.Single(now).EventId);
        Assert.Contains(later, d => d.EventId == future.Id);
    }

    [Fact]
    public async Task Lease_returns_a_complete_delivery_with_its_lease()
    {
        var account = await AccountAsync();
        var webhook = await WebhookAsync(account, secret: [1, 2, 3]);
        var evt = Event(account);
        await IngestAsync(evt);
        var now = T0 + TimeSpan.FromSeconds(3);

        var leased = Assert.Single(await LeaseAsync(now));

        Assert.Equal(evt.Id, leased.EventId);
        Assert.Equal(webhook.Id, leased.WebhookId);
        Assert.Equal(account, leased.AccountId);
        Assert.Equal(webhook.Url, leased.Url);
        Assert.Equal(evt.Body, leased.Body);
        Assert.Equal(evt.CreatedAt, leased.EventCreatedAt);
        Assert.Equal([1, 2, 3], leased.SecretCiphertext);
        Assert.Equal(0, leased.AttemptsMade);
        Assert.Equal(AttemptTrigger.Initial, leased.Trigger);
        Assert.Equal(now + LeaseFor, leased.LeaseExpiresAt);
    }

    [Fact]
    public async Task Lease_takes_the_oldest_due_first_up_to_the_batch_size()
    {
        var account = await AccountAsync();
        await WebhookAsync(account);
        var events = Enumerable.Range(0, 5).Select(i => Event(account, at: T0 + TimeSpan.FromSeconds(5 - i))).ToArray();
        foreach (var evt in events)
        {
            await IngestAsync(evt);
        }

        var leased = await LeaseAsync(T0 + TimeSpan.FromMinutes(1), max: 2);

        Assert.Equal(events.OrderBy(e => e.CreatedAt).Take(2).Select(e => e.Id), leased.Select(d => d.EventId));
    }

    [Fact]
    public async Task Lease_caps_how_many_deliveries_each_webhook_gets()
    {
        var account = await AccountAsync();
        var busy = await WebhookAsync(account, events: ["payment.captured"]);
        var quiet = await WebhookAsync(account, events: ["payment.failed"]);
        var busyEvents = Enumerable.Range(0, 5).Select(i => Event(account, at: T0 + TimeSpan.FromSeconds(i))).ToArray();
        foreach (var evt in busyEvents)
        {
            await IngestAsync(evt);
        }

        await IngestAsync(Event(account, name: "payment.failed", at: T0 + TimeSpan.FromSeconds(10)));

        var leased = await LeaseAsync(T0 + TimeSpan.FromMinutes(1), perWebhook: 2);

        Assert.Equal(busyEvents.Take(2).Select(e => e.Id), leased.Where(d => d.WebhookId == busy.Id).Select(d => d.EventId));
        Assert.Single(leased, d => d.WebhookId == quiet.Id);
        Assert.Equal(3, leased.Count);
    }

    [Fact]
    public async Task One_webhooks_backlog_does_not_crowd_other_webhooks_out_of_a_lease()
    {
        // Thousands queued for one endpoint that was down, older than everything else. A store may bound how far
        // it looks (SQLite scans about a thousand due rows), but the per-webhook cap must leave room for other
        // webhooks' due deliveries rather than just shrink the batch. 2,500 is above any such bound we use.
        var (backlogged, other, waiting) = await BacklogAndOneWaitingAsync();

        var leased = await LeaseAsync(T0 + TimeSpan.FromMinutes(1), max: 10, perWebhook: 2);

        Assert.Equal(2, leased.Count(d => d.WebhookId == backlogged.Id));
        Assert.Equal(waiting.Id, Assert.Single(leased, d => d.WebhookId == other.Id).EventId);
    }

    [Fact]
    public async Task Lease_skips_excluded_webhooks()
    {
        var account = await AccountAsync();
        var excluded = await WebhookAsync(account);
        var included = await WebhookAsync(account);
        await IngestAsync(Event(account));

        var leased = await LeaseAsync(T0 + TimeSpan.FromMinutes(1), excluded: [excluded.Id]);

        Assert.Equal(included.Id, Assert.Single(leased).WebhookId);
    }


    [Fact]
    public async Task Excluded_webhooks_backlog_does_not_hide_other_webhooks_due_deliveries()
    {
        // The worker leaves out a webhook whose lane is full; that webhook holds the oldest 2,500 due deliveries,
        // more than any bounded scan looks at. The other webhook's one due delivery must still be leased, and
        // nothing of the excluded one.
        var (backlogged, other, waiting) = await BacklogAndOneWaitingAsync();

        var leased = await LeaseAsync(T0 + TimeSpan.FromMinutes(1), max: 10, perWebhook: 10, excluded: [backlogged.Id]);

        Assert.Equal(waiting.Id, Assert.Single(leased).EventId);
        Assert.Equal(other.Id, leased[0].WebhookId);
    }
    [Fact]
    public async Task Leased_delivery_is_not_leased_again_before_its_lease_expires()
    {
        var account = await AccountAsync();
        await WebhookAsync(account);
        await IngestAsync(Event(account));
        Assert.Single(await LeaseAsync(T0));

        var again = await LeaseAsync(T0 + LeaseFor - TimeSpan.FromSeconds(1), owner: "worker-b");

        Assert.Empty(again);
    }

    [Fact]
    public async Task Expired_lease_is_taken_over_with_a_higher_token()
    {
        var account = await AccountAsync();
        await WebhookAsync(account);
        await IngestAsync(Event(account));
        var first = Assert.Single(await LeaseAsync(T0));
        var later = T0 + LeaseFor + TimeSpan.FromSeconds(1);

        var second = Assert.Single(await LeaseAsync(later, owner: "worker-b"));

        Assert.Equal(first.Id, second.Id);
        Assert.True(second.LeaseToken > first.LeaseToken);
        Assert.Equal(later + LeaseFor, second.LeaseExpiresAt);
        Assert.Equal(0, second.AttemptsMade);
    }

    // Fencing

    [Fact]
    public async Task Completion_with_a_stale_lease_token_is_discarded_and_the_new_owner_wins()
    {
        var account = await AccountAsync();
        await WebhookAsync(account);
        await IngestAsync(Event(account));
        var stale = Assert.Single(await LeaseAsync(T0));
        var current = Assert.Single(await LeaseAsync(T0 + LeaseFor + TimeSpan.FromSeconds(1), owner: "worker-b"));

        var late = await CompleteAsync(T0 + TimeSpan.FromSeconds(40), Success(stale, T0 + TimeSpan.FromSeconds(2)));

        Assert.Equal(0, late.Applied);
        Assert.Equal(1, late.Discarded);
        var untouched = await DeliveryAsync(account, stale.Id);
        Assert.Equal(DeliveryStatus.Pending, untouched.Delivery.Status);
        Assert.Equal(0, untouched.Delivery.Attempts);
        Assert.Null(untouched.Delivery.LastStatusCode);
        Assert.Empty(untouched.Attempts);

        var owner = await CompleteAsync(T0 + TimeSpan.FromSeconds(41), Failure(current, T0 + TimeSpan.FromSeconds(32), retryAt: null, status: 503));

        Assert.Equal(1, owner.Applied);
        Assert.Equal(0, owner.Discarded);
        var applied = await DeliveryAsync(account, current.Id);
        Assert.Equal(DeliveryStatus.Failed, applied.Delivery.Status);
        Assert.Equal(503, Assert.Single(applied.Attempts).StatusCode);
    }

    [Fact]
    public async Task Batch_holding_results_of_two_leases_of_one_delivery_applies_the_current_one_only()
    {
        // A results write that keeps failing (the database restarting) outlasts a lease: the same worker leases the
        // deliveries again, attempts them again, and both results of each end up in one batch. Only the current
        // lease's result counts, whichever comes first; the stale one is neither recorded nor allowed to fail the batch.
        var account = await AccountAsync();
        var webhook = await WebhookAsync(account);
        await IngestAsync(Event(account));
        await IngestAsync(Event(account));
        var stale = await LeaseAsync(T0);
        var current = await LeaseAsync(T0 + LeaseFor + TimeSpan.FromSeconds(1));
        Assert.Equal(stale.Select(d => d.Id), current.Select(d => d.Id));
        var retryAt = T0 + TimeSpan.FromHours(1);

        var report = await CompleteAsync(T0 + LeaseFor + TimeSpan.FromSeconds(2),
            Failure(stale[0], T0, retryAt, status: 500), Success(current[0], T0 + LeaseFor),
            Success(current[1], T0 + LeaseFor), Failure(stale[1], T0, retryAt, status: 500));

        Assert.Equal((2, 2), (report.Applied, report.Discarded));
        foreach (var delivery in current)
        {
            var delivered = await DeliveryAsync(account, delivery.Id);
            Assert.Equal(DeliveryStatus.Succeeded, delivered.Delivery.Status);
            Assert.Equal(200, Assert.Single(delivered.Attempts).StatusCode);
        }

        Assert.Null((await WebhookByIdAsync(account, webhook.Id)).FailingSince);
    }

    [Fact]
    public async Task Batch_refused_for_what_it_holds_says_so_and_changes_nothing()
    {
        // The completion writer sets a refused result apart by writing the batch in halves, which is only right when
        // the store tells a refusal of the data from being unreachable or busy, and a refused batch leaves no trace.
        var account = await AccountAsync();
        await WebhookAsync(account);
        await IngestAsync(Event(account));
        await IngestAsync(Event(account));
        var leased = await LeaseAsync(T0);
        await RefuseAttemptsOfAsync(leased[0].Id);

        var refused = await Assert.ThrowsAnyAsync<Exception>(
            () => CompleteAsync(T0 + TimeSpan.FromSeconds(1), Success(leased[1], T0), Success(leased[0], T0)));

        Assert.True(Store.RefusesData(refused), refused.ToString());
        foreach (var delivery in leased)
        {
            var untouched = await DeliveryAsync(account, delivery.Id);
            Assert.Equal(DeliveryStatus.Pending, untouched.Delivery.Status);
            Assert.Empty(untouched.Attempts);
        }

        Assert.Equal(1, (await CompleteAsync(T0 + TimeSpan.FromSeconds(2), Success(leased[1], T0))).Applied);
        Assert.Equal(DeliveryStatus.Succeeded, (await DeliveryAsync(account, leased[1].Id)).Delivery.Status);
        Assert.False(Store.RefusesData(new TimeoutException()));
    }

    [Fact]
    public async Task Late_result_of_a_stale_owner_never_reverts_a_delivered_row()
    {
        var account = await AccountAsync();
        await WebhookAsync(account);
        await IngestAsync(Event(account));
        var stale = Assert.Single(await LeaseAsync(T0));
        var current = Assert.Single(await LeaseAsync(T0 + LeaseFor + TimeSpan.FromSeconds(1), owner: "worker-b"));
        await CompleteAsync(T0 + TimeSpan.FromSeconds(35), Success(current, T0 + TimeSpan.FromSeconds(32)));

        var late = await CompleteAsync(T0 + TimeSpan.FromSeconds(50),
            Failure(stale, T0 + TimeSpan.FromSeconds(2), retryAt: T0 + TimeSpan.FromMinutes(5)));

        Assert.Equal(1, late.Discarded);
        var delivered = await DeliveryAsync(account, current.Id);
        Assert.Equal(DeliveryStatus.Succeeded, delivered.Delivery.Status);
        Assert.Equal(200, delivered.Delivery.LastStatusCode);
        Assert.Single(delivered.Attempts);
        Assert.Empty(await LeaseAsync(T0 + TimeSpan.FromHours(1)));
    }

    [Fact]
    public async Task Repeated_completion_of_a_finished_delivery_is_discarded()
    {
        var account = await AccountAsync();
        await WebhookAsync(account);
        await IngestAsync(Event(account));
        var leased = Assert.Single(await LeaseAsync(T0));
        await CompleteAsync(T0 + TimeSpan.FromSeconds(2), Success(leased, T0 + TimeSpan.FromSeconds(1)));

        var again = await CompleteAsync(T0 + TimeSpan.FromSeconds(3), Success(leased, T0 + TimeSpan.FromSeconds(1)));

        Assert.Equal(0, again.Applied);
        Assert.Equal(1, again.Discarded);
        Assert.Single((await DeliveryAsync(account, leased.Id)).Attempts);
    }

    [Fact]
    public async Task Completion_batch_written_again_after_it_was_applied_changes_nothing()
    {
        // The completion writer retries a batch whose write failed; when the failure came after the commit (a
        // connection lost during COMMIT) the same batch arrives twice. A completion that scheduled a retry leaves
        // the row pending, so only the consumed lease can tell the second copy apart.
        var account = await AccountAsync();
        await WebhookAsync(account);
        await IngestAsync(Event(account));
        await IngestAsync(Event(account));
        var leased = await LeaseAsync(T0);
        var retryAt = T0 + TimeSpan.FromMinutes(1);
        var batch = new[] { Failure(leased[0], T0, retryAt), Success(leased[1], T0) };
        await CompleteAsync(T0 + TimeSpan.FromSeconds(1), batch);

        var again = await CompleteAsync(T0 + TimeSpan.FromSeconds(2), batch);

        Assert.Equal(0, again.Applied);
        Assert.Equal(2, again.Discarded);
        var retrying = await DeliveryAsync(account, leased[0].Id);
        Assert.Equal(DeliveryStatus.Pending, retrying.Delivery.Status);
        Assert.Equal(retryAt, retrying.Delivery.NextAttemptAt);
        Assert.Single(retrying.Attempts);
        Assert.Single((await DeliveryAsync(account, leased[1].Id)).Attempts);
        Assert.Equal(leased[0].Id, Assert.Single(await LeaseAsync(retryAt)).Id);
    }

    // Completion effects

    [Fact]
    public async Task Successful_attempt_marks_the_delivery_succeeded_and_records_the_attempt()
    {
        var account = await AccountAsync();
        await WebhookAsync(account);
        await IngestAsync(Event(account));
        var leased = Assert.Single(await LeaseAsync(T0));
        var started = T0 + TimeSpan.FromSeconds(1);
        var now = T0 + TimeSpan.FromSeconds(2);

        var report = await CompleteAsync(now, Success(leased, started));

        Assert.Equal(1, report.Applied);
        Assert.Empty(report.DisabledWebhooks);
        var detail = await DeliveryAsync(account, leased.Id);
        Assert.Equal(account, detail.AccountId);
        Assert.Equal(Modes.Test, detail.Mode);
        Assert.Equal(DeliveryStatus.Succeeded, detail.Delivery.Status);
        Assert.Equal(1, detail.Delivery.Attempts);
        Assert.Equal(now, detail.Delivery.CompletedAt);
        Assert.Null(detail.Delivery.NextAttemptAt);
        Assert.Equal(200, detail.Delivery.LastStatusCode);
        Assert.Null(detail.Delivery.LastError);
        var attempt = Assert.Single(detail.Attempts);
        Assert.Equal(new AttemptRecord(1, AttemptTrigger.Initial, started, 120, 200, null, "ok"), attempt);
        Assert.Empty(await LeaseAsync(T0 + TimeSpan.FromDays(1)));
    }

    [Fact]
    public async Task Failed_attempt_with_a_retry_stays_pending_and_comes_back_as_a_retry_when_due()
    {
        var account = await AccountAsync();
        await WebhookAsync(account);
        await IngestAsync(Event(account));
        var first = Assert.Single(await LeaseAsync(T0));
        var retryAt = T0 + TimeSpan.FromMinutes(5);

        await CompleteAsync(T0 + TimeSpan.FromSeconds(2), Failure(first, T0 + TimeSpan.FromSeconds(1), retryAt));

        var waiting = await DeliveryAsync(account, first.Id);
        Assert.Equal(DeliveryStatus.Pending, waiting.Delivery.Status);
        Assert.Equal(retryAt, waiting.Delivery.NextAttemptAt);
        Assert.Null(waiting.Delivery.CompletedAt);
        Assert.Equal(1, waiting.Delivery.Attempts);
        Assert.Equal(500, waiting.Delivery.LastStatusCode);
        Assert.Equal(AttemptError.HttpStatus.ToWire(), waiting.Delivery.LastError);
        Assert.Empty(await LeaseAsync(retryAt - TimeSpan.FromSeconds(1)));

        var retry = Assert.Single(await LeaseAsync(retryAt));
        Assert.Equal(first.Id, retry.Id);
        Assert.Equal(AttemptTrigger.Retry, retry.Trigger);
        Assert.Equal(1, retry.AttemptsMade);
        Assert.True(retry.LeaseToken > first.LeaseToken);
    }

    [Fact]
    public async Task Failed_attempt_without_a_retry_fails_the_delivery_for_good()
    {
        var account = await AccountAsync();
        await WebhookAsync(account);
        await IngestAsync(Event(account));
        var leased = Assert.Single(await LeaseAsync(T0));
        var now = T0 + TimeSpan.FromSeconds(2);

        await CompleteAsync(now, Failure(leased, T0 + TimeSpan.FromSeconds(1), retryAt: null, status: 410));

        var detail = await DeliveryAsync(account, leased.Id);
        Assert.Equal(DeliveryStatus.Failed, detail.Delivery.Status);
        Assert.Equal(now, detail.Delivery.CompletedAt);
        Assert.Null(detail.Delivery.NextAttemptAt);
        Assert.Equal(410, detail.Delivery.LastStatusCode);
        Assert.Single(detail.Attempts);
        Assert.Empty(await LeaseAsync(T0 + TimeSpan.FromDays(1)));
    }

    [Fact]
    public async Task Attempts_are_recorded_in_order_with_their_triggers()
    {
        var account = await AccountAsync();
        await WebhookAsync(account);
        await IngestAsync(Event(account));
        var at = T0;
        var timeout = AttemptOutcome.Failure(AttemptError.Timeout, TimeSpan.FromSeconds(15));

        var first = Assert.Single(await LeaseAsync(at));
        await CompleteAsync(at + TimeSpan.FromSeconds(16), Failure(first, at, at + TimeSpan.FromMinutes(1)));
        at += TimeSpan.FromMinutes(1);
        var second = Assert.Single(await LeaseAsync(at));
        await CompleteAsync(at + TimeSpan.FromSeconds(16), Completed(second, at, timeout, at + TimeSpan.FromMinutes(5)));
        at += TimeSpan.FromMinutes(5);
        var third = Assert.Single(await LeaseAsync(at));
        await CompleteAsync(at + TimeSpan.FromSeconds(1), Success(third, at));

        var detail = await DeliveryAsync(account, first.Id);
        Assert.Equal(DeliveryStatus.Succeeded, detail.Delivery.Status);
        Assert.Equal(3, detail.Delivery.Attempts);
        Assert.Equal([1, 2, 3], detail.Attempts.Select(a => a.Number));
        Assert.Equal([AttemptTrigger.Initial, AttemptTrigger.Retry, AttemptTrigger.Retry], detail.Attempts.Select(a => a.Trigger));
        Assert.Equal([T0, T0 + TimeSpan.FromMinutes(1), at], detail.Attempts.Select(a => a.StartedAt));
        Assert.Equal([500, null, 200], detail.Attempts.Select(a => a.StatusCode));
        Assert.Equal([AttemptError.HttpStatus.ToWire(), AttemptError.Timeout.ToWire(), null], detail.Attempts.Select(a => a.Error));
        Assert.Equal(15_000, detail.Attempts[1].DurationMs);
    }

    [Fact]
    public async Task Deadline_passed_fails_the_delivery_without_recording_an_attempt()
    {
        var account = await AccountAsync();
        await WebhookAsync(account);
        await IngestAsync(Event(account));
        var first = Assert.Single(await LeaseAsync(T0));
        await CompleteAsync(T0 + TimeSpan.FromSeconds(1), Failure(first, T0, T0 + TimeSpan.FromMinutes(1)));
        var retry = Assert.Single(await LeaseAsync(T0 + TimeSpan.FromMinutes(1)));
        var now = T0 + TimeSpan.FromMinutes(1);

        var report = await CompleteAsync(now, Completed(retry, now, outcome: null, retryAt: null));

        Assert.Equal(1, report.Applied);
        var detail = await DeliveryAsync(account, first.Id);
        Assert.Equal(DeliveryStatus.Failed, detail.Delivery.Status);
        Assert.Equal(now, detail.Delivery.CompletedAt);
        Assert.Equal(1, detail.Delivery.Attempts);
        Assert.Single(detail.Attempts);
        Assert.Empty(await LeaseAsync(T0 + TimeSpan.FromDays(1)));
    }

    // Failure streak and auto-disable

    [Fact]
    public async Task Failure_starts_the_streak_and_success_clears_it()
    {
        var account = await AccountAsync();
        var webhook = await WebhookAsync(account);
        await IngestAsync(Event(account));
        await IngestAsync(Event(account));
        var leased = await LeaseAsync(T0);
        var started = T0 + TimeSpan.FromSeconds(1);

        await CompleteAsync(T0 + TimeSpan.FromSeconds(2), Failure(leased[0], started, T0 + TimeSpan.FromMinutes(1)));

        Assert.Equal(started, (await WebhookByIdAsync(account, webhook.Id)).FailingSince);

        await CompleteAsync(T0 + TimeSpan.FromSeconds(4), Success(leased[1], T0 + TimeSpan.FromSeconds(3)));

        var healed = await WebhookByIdAsync(account, webhook.Id);
        Assert.Null(healed.FailingSince);
        Assert.True(healed.Active);
    }

    [Fact]
    public async Task Webhook_failing_for_less_than_DisableAfter_stays_active()
    {
        var account = await AccountAsync();
        var webhook = await WebhookAsync(account);
        await IngestAsync(Event(account));
        var first = Assert.Single(await LeaseAsync(T0));
        await CompleteAsync(T0, Failure(first, T0, T0 + TimeSpan.FromMinutes(59)));
        var now = T0 + DisableAfter - TimeSpan.FromSeconds(1);
        var retry = Assert.Single(await LeaseAsync(now));

        var report = await CompleteAsync(now, Failure(retry, now, now + TimeSpan.FromMinutes(10)));

        Assert.Empty(report.DisabledWebhooks);
        var still = await WebhookByIdAsync(account, webhook.Id);
        Assert.True(still.Active);
        Assert.Equal(T0, still.FailingSince);
        Assert.Equal(DeliveryStatus.Pending, (await DeliveryAsync(account, first.Id)).Delivery.Status);
    }

    [Fact]
    public async Task Webhook_failing_for_DisableAfter_is_disabled_and_its_pending_deliveries_cancelled()
    {
        var account = await AccountAsync();
        var failing = await WebhookAsync(account, events: ["payment.captured"]);
        var healthy = await WebhookAsync(account, events: ["payment.captured"]);
        await IngestAsync(Event(account));
        var queued = Event(account, at: T0 + TimeSpan.FromHours(2));
        await IngestAsync(queued);
        var first = Assert.Single(await LeaseAsync(T0, excluded: [healthy.Id]));
        await CompleteAsync(T0 + TimeSpan.FromSeconds(1), Failure(first, T0, T0 + DisableAfter));
        var now = T0 + DisableAfter;
        var retry = Assert.Single(await LeaseAsync(now, excluded: [healthy.Id]));

        var report = await CompleteAsync(now, Failure(retry, now, now + TimeSpan.FromHours(1)));

        Assert.Equal([failing.Id], report.DisabledWebhooks);
        var disabled = await WebhookByIdAsync(account, failing.Id);
        Assert.False(disabled.Active);
        Assert.Equal(now, disabled.DisabledAt);
        Assert.False(string.IsNullOrWhiteSpace(disabled.DisabledReason));
        var queuedDelivery = Assert.Single(await Store.ListEventDeliveriesAsync(queued.Id, Ct), d => d.WebhookId == failing.Id);
        Assert.Equal(DeliveryStatus.Cancelled, queuedDelivery.Status);
        var retried = await DeliveryAsync(account, first.Id);
        Assert.NotEqual(DeliveryStatus.Pending, retried.Delivery.Status);
        Assert.Equal(2, retried.Attempts.Count);
        Assert.True((await WebhookByIdAsync(account, healthy.Id)).Active);
        var later = await LeaseAsync(T0 + TimeSpan.FromDays(1));
        Assert.Equal(2, later.Count);
        Assert.All(later, d => Assert.Equal(healthy.Id, d.WebhookId));
    }

    [Fact]
    public async Task Success_resets_the_streak_so_earlier_failures_do_not_count_towards_disabling()
    {
        var account = await AccountAsync();
        var webhook = await WebhookAsync(account);
        for (var i = 0; i < 3; i++)
        {
            await IngestAsync(Event(account));
        }

        var leased = await LeaseAsync(T0);
        await CompleteAsync(T0, Failure(leased[0], T0, retryAt: null));
        await CompleteAsync(T0 + TimeSpan.FromMinutes(30), Success(leased[1], T0 + TimeSpan.FromMinutes(30)));
        var now = T0 + TimeSpan.FromMinutes(70);

        var report = await CompleteAsync(now, Failure(leased[2], now, retryAt: null));

        Assert.Empty(report.DisabledWebhooks);
        var still = await WebhookByIdAsync(account, webhook.Id);
        Assert.True(still.Active);
        Assert.Equal(now, still.FailingSince);
    }

    [Fact]
    public async Task Re_enabling_clears_the_disabled_state_and_restarts_the_streak()
    {
        var account = await AccountAsync();
        var webhook = await WebhookAsync(account);
        await IngestAsync(Event(account));
        await IngestAsync(Event(account));
        var leased = await LeaseAsync(T0);
        await CompleteAsync(T0, Failure(leased[0], T0, retryAt: null));
        var disabledAt = T0 + DisableAfter;
        var report = await CompleteAsync(disabledAt, Failure(leased[1], disabledAt, retryAt: null));
        Assert.Equal([webhook.Id], report.DisabledWebhooks);
        var reEnabledAt = disabledAt + TimeSpan.FromHours(1);

        var reEnabled = await Store.UpdateWebhookAsync(account, Modes.Test, webhook.Id, new WebhookChanges(Active: true), reEnabledAt, Ct);

        Assert.NotNull(reEnabled);
        Assert.True(reEnabled.Active);
        Assert.Null(reEnabled.DisabledAt);
        Assert.Null(reEnabled.DisabledReason);
        Assert.Null(reEnabled.FailingSince);
        Assert.Equal(reEnabledAt, reEnabled.UpdatedAt);

        var evt = Event(account, at: reEnabledAt);
        await IngestAsync(evt);
        var fresh = Assert.Single(await LeaseAsync(reEnabledAt));
        var after = await CompleteAsync(reEnabledAt, Failure(fresh, reEnabledAt, reEnabledAt + TimeSpan.FromMinutes(1)));

        Assert.Empty(after.DisabledWebhooks);
        var failingAgain = await WebhookByIdAsync(account, webhook.Id);
        Assert.True(failingAgain.Active);
        Assert.Equal(reEnabledAt, failingAgain.FailingSince);
    }

    // Disabling and deleting

    [Fact]
    public async Task Disabling_a_webhook_cancels_its_pending_deliveries_and_discards_late_results()
    {
        var account = await AccountAsync();
        var webhook = await WebhookAsync(account);
        var leasedEvent = Event(account);
        var queuedEvent = Event(account, at: T0 + TimeSpan.FromMinutes(5));
        await IngestAsync(leasedEvent);
        await IngestAsync(queuedEvent);
        var inFlight = Assert.Single(await LeaseAsync(T0));
        var at = T0 + TimeSpan.FromSeconds(5);

        var updated = await Store.UpdateWebhookAsync(account, Modes.Test, webhook.Id, new WebhookChanges(Active: false), at, Ct);

        Assert.NotNull(updated);
        Assert.False(updated.Active);
        Assert.Equal(at, updated.DisabledAt);
        foreach (var evt in new[] { leasedEvent, queuedEvent })
        {
            var delivery = Assert.Single(await Store.ListEventDeliveriesAsync(evt.Id, Ct));
            Assert.Equal(DeliveryStatus.Cancelled, delivery.Status);
            Assert.Equal(at, delivery.CompletedAt);
        }

        var late = await CompleteAsync(T0 + TimeSpan.FromSeconds(6), Success(inFlight, T0 + TimeSpan.FromSeconds(1)));
        Assert.Equal(1, late.Discarded);
        Assert.Equal(DeliveryStatus.Cancelled, (await DeliveryAsync(account, inFlight.Id)).Delivery.Status);
        Assert.Empty(await LeaseAsync(T0 + TimeSpan.FromDays(1)));

        var afterwards = Event(account, at: T0 + TimeSpan.FromMinutes(10));
        Assert.Equal(1, (await IngestAsync(afterwards)).Skipped);
    }

    [Fact]
    public async Task Deleting_a_webhook_cancels_its_pending_deliveries_and_keeps_its_history()
    {
        var account = await AccountAsync();
        var webhook = await WebhookAsync(account);
        var delivered = Event(account);
        var queued = Event(account, at: T0 + TimeSpan.FromMinutes(5));
        await IngestAsync(delivered);
        await IngestAsync(queued);
        var leased = Assert.Single(await LeaseAsync(T0));
        await CompleteAsync(T0 + TimeSpan.FromSeconds(1), Success(leased, T0));
        var at = T0 + TimeSpan.FromMinutes(1);

        Assert.True(await Store.DeleteWebhookAsync(account, Modes.Test, webhook.Id, at, Ct));

        Assert.Null(await Store.GetWebhookAsync(account, Modes.Test, webhook.Id, Ct));
        Assert.Empty(await Store.ListWebhooksAsync(account, Modes.Test, Ct));
        Assert.False(await Store.DeleteWebhookAsync(account, Modes.Test, webhook.Id, at, Ct));
        Assert.Null(await Store.UpdateWebhookAsync(account, Modes.Test, webhook.Id, new WebhookChanges(Active: true), at, Ct));
        var cancelled = Assert.Single(await Store.ListEventDeliveriesAsync(queued.Id, Ct));
        Assert.Equal(DeliveryStatus.Cancelled, cancelled.Status);
        Assert.Equal(DeliveryStatus.Succeeded, (await DeliveryAsync(account, leased.Id)).Delivery.Status);
        Assert.Empty(await LeaseAsync(T0 + TimeSpan.FromDays(1)));
    }

    [Fact]
    public async Task Deleting_is_scoped_to_the_webhooks_account_and_mode()
    {
        var account = await AccountAsync();
        var other = await AccountAsync();
        var webhook = await WebhookAsync(account);

        Assert.False(await Store.DeleteWebhookAsync(other, Modes.Test, webhook.Id, T0, Ct));
        Assert.False(await Store.DeleteWebhookAsync(account, Modes.Live, webhook.Id, T0, Ct));

        Assert.NotNull(await Store.GetWebhookAsync(account, Modes.Test, webhook.Id, Ct));
    }

    // Secrets

    [Fact]
    public async Task Delivery_is_signed_with_the_secret_in_force_when_its_event_was_created()
    {
        var account = await AccountAsync();
        var webhook = await WebhookAsync(account, secret: [1, 1, 1]);
        var before = Event(account);
        await IngestAsync(before);
        var rotated = new WebhookSecret(Ids.New(Ids.Secret), webhook.Id, [2, 2, 2], T0 + TimeSpan.FromSeconds(1));
        var updated = await Store.UpdateWebhookAsync(account, Modes.Test, webhook.Id, new WebhookChanges(NewSecret: rotated), rotated.CreatedAt, Ct);
        var after = Event(account, at: T0 + TimeSpan.FromSeconds(2));

        var result = await Store.IngestAsync(new IngestBatch([after], null, null, Grant(T0 + LeaseFor)), Ct);

        Assert.Equal(rotated.Id, updated?.SecretId);
        Assert.Equal([2, 2, 2], Assert.Single(result.Leased).SecretCiphertext);
        var old = Assert.Single(await LeaseAsync(T0 + TimeSpan.FromSeconds(3)));
        Assert.Equal(before.Id, old.EventId);
        Assert.Equal([1, 1, 1], old.SecretCiphertext);
        var expired = await LeaseAsync(T0 + TimeSpan.FromMinutes(1));
        Assert.Equal([1, 1, 1], Assert.Single(expired, d => d.EventId == before.Id).SecretCiphertext);
        Assert.Equal([2, 2, 2], Assert.Single(expired, d => d.EventId == after.Id).SecretCiphertext);
    }

    [Fact]
    public async Task Removing_the_secret_affects_only_later_events()
    {
        var account = await AccountAsync();
        var webhook = await WebhookAsync(account, secret: [5, 5]);
        var before = Event(account);
        await IngestAsync(before);
        await Store.UpdateWebhookAsync(account, Modes.Test, webhook.Id, new WebhookChanges(RemoveSecret: true), T0, Ct);
        var after = Event(account, at: T0 + TimeSpan.FromSeconds(1));
        await IngestAsync(after);

        var leased = await LeaseAsync(T0 + TimeSpan.FromMinutes(1));

        Assert.Null((await WebhookByIdAsync(account, webhook.Id)).SecretId);
        Assert.Equal([5, 5], Assert.Single(leased, d => d.EventId == before.Id).SecretCiphertext);
        Assert.Null(Assert.Single(leased, d => d.EventId == after.Id).SecretCiphertext);
    }

    // Queries

    [Fact]
    public async Task Event_is_found_only_within_its_account_and_mode()
    {
        var account = await AccountAsync();
        var other = await AccountAsync();
        var evt = Event(account, mode: Modes.Live);
        await IngestAsync(evt);

        Assert.Null(await Store.GetEventAsync(account, Modes.Test, evt.Id, Ct));
        Assert.Null(await Store.GetEventAsync(other, Modes.Live, evt.Id, Ct));
        var found = await Store.GetEventAsync(account, Modes.Live, evt.Id, Ct);
        Assert.NotNull(found);
        Assert.Equal(account, found.AccountId);
        Assert.Equal(Modes.Live, found.Mode);
        Assert.Equal(evt.Body, found.Body);
    }

    [Fact]
    public async Task Delivery_is_found_only_within_its_account_and_mode()
    {
        var account = await AccountAsync();
        var other = await AccountAsync();
        await WebhookAsync(account, mode: Modes.Live);
        var evt = Event(account, mode: Modes.Live);
        await IngestAsync(evt);
        var id = Assert.Single(await Store.ListEventDeliveriesAsync(evt.Id, Ct)).Id;

        Assert.Null(await Store.GetDeliveryAsync(account, Modes.Test, id, Ct));
        Assert.Null(await Store.GetDeliveryAsync(other, Modes.Live, id, Ct));
        var found = await Store.GetDeliveryAsync(account, Modes.Live, id, Ct);
        Assert.NotNull(found);
        Assert.Equal(evt.Id, found.Delivery.EventId);
        Assert.Equal(Modes.Live, found.Mode);
    }

    [Fact]
    public async Task Event_deliveries_list_one_row_per_webhook_with_its_status()
    {
        var account = await AccountAsync();
        var active = await WebhookAsync(account);
        var disabled = await WebhookAsync(account, active: false);
        var unrelated = Event(account);
        await IngestAsync(unrelated);
        var evt = Event(account, at: T0 + TimeSpan.FromSeconds(1));
        await IngestAsync(evt);

        var deliveries = await Store.ListEventDeliveriesAsync(evt.Id, Ct);

        Assert.Equal(2, deliveries.Count);
        Assert.All(deliveries, d => Assert.Equal(evt.Id, d.EventId));
        Assert.Equal(DeliveryStatus.Pending, Assert.Single(deliveries, d => d.WebhookId == active.Id).Status);
        Assert.Equal(DeliveryStatus.Skipped, Assert.Single(deliveries, d => d.WebhookId == disabled.Id).Status);
        Assert.Empty(await Store.ListEventDeliveriesAsync(Ids.New(Ids.Event), Ct));
    }

    [Fact]
    public async Task Deliveries_are_counted_by_status()
    {
        var account = await AccountAsync();
        await WebhookAsync(account, events: ["payment.captured"]);
        await WebhookAsync(account, events: ["payment.failed"], active: false);
        for (var i = 0; i < 3; i++)
        {
            await IngestAsync(Event(account, at: T0 + TimeSpan.FromSeconds(i)));
        }

        await IngestAsync(Event(account, name: "payment.failed"));
        var leased = await LeaseAsync(T0 + TimeSpan.FromMinutes(1), max: 2);
        await CompleteAsync(T0 + TimeSpan.FromMinutes(1), Success(leased[0], T0), Failure(leased[1], T0, retryAt: null));

        var counts = await Store.CountDeliveriesAsync(Ct);

        Assert.Equal(1, Count(counts, DeliveryStatus.Pending));
        Assert.Equal(1, Count(counts, DeliveryStatus.Succeeded));
        Assert.Equal(1, Count(counts, DeliveryStatus.Failed));
        Assert.Equal(1, Count(counts, DeliveryStatus.Skipped));
        Assert.Equal(0, Count(counts, DeliveryStatus.Cancelled));
    }

    [Fact]
    public async Task Webhook_round_trips_and_partial_updates_keep_the_rest()
    {
        var account = await AccountAsync();
        var webhook = await WebhookAsync(account, events: ["payment.captured"], secret: [3], alertEmail: "ops@acme.test");

        var stored = await WebhookByIdAsync(account, webhook.Id);

        Assert.Equal(webhook.Url, stored.Url);
        Assert.Equal(["payment.captured"], stored.Events);
        Assert.Equal(Products.Payments, stored.Product);
        Assert.Equal(webhook.SecretId, stored.SecretId);
        Assert.Equal("ops@acme.test", stored.AlertEmail);
        Assert.Equal(T0, stored.CreatedAt);
        Assert.Null(await Store.GetWebhookAsync(account, Modes.Live, webhook.Id, Ct));
        Assert.Equal([webhook.Id], (await Store.ListWebhooksAsync(account, Modes.Test, Ct)).Select(w => w.Id));
        Assert.Empty(await Store.ListWebhooksAsync(account, Modes.Live, Ct));

        var at = T0 + TimeSpan.FromMinutes(1);
        var moved = await Store.UpdateWebhookAsync(account, Modes.Test, webhook.Id,
            new WebhookChanges(Url: "https://moved.example/hook", Events: ["*"], ClearAlertEmail: true), at, Ct);

        Assert.NotNull(moved);
        Assert.Equal("https://moved.example/hook", moved.Url);
        Assert.Equal(["*"], moved.Events);
        Assert.Null(moved.AlertEmail);
        Assert.Equal(webhook.SecretId, moved.SecretId);
        Assert.True(moved.Active);
        Assert.Equal(at, moved.UpdatedAt);
        Assert.Equal(moved, await Store.GetWebhookAsync(account, Modes.Test, webhook.Id, Ct), WebhookComparer.Instance);
        Assert.Null(await Store.UpdateWebhookAsync(account, Modes.Live, webhook.Id, new WebhookChanges(Url: "https://x.example"), at, Ct));
    }

    [Fact]
    public async Task Retry_goes_to_the_webhooks_current_url()
    {
        var account = await AccountAsync();
        var webhook = await WebhookAsync(account);
        await IngestAsync(Event(account));
        var first = Assert.Single(await LeaseAsync(T0));
        await CompleteAsync(T0, Failure(first, T0, T0 + TimeSpan.FromMinutes(1)));
        await Store.UpdateWebhookAsync(account, Modes.Test, webhook.Id, new WebhookChanges(Url: "https://moved.example/hook"), T0 + TimeSpan.FromSeconds(30), Ct);

        var retry = Assert.Single(await LeaseAsync(T0 + TimeSpan.FromMinutes(1)));

        Assert.Equal("https://moved.example/hook", retry.Url);
    }

    [Fact]
    public async Task Account_and_keys_round_trip_and_a_key_is_revoked_once_by_its_account()
    {
        var account = new Account(Ids.New(Ids.Account), "Acme", "ops@acme.test", T0);
        var test = new ApiKey(Ids.New(Ids.TestKey), account.Id, Modes.Test, [1, 2], T0, null);
        await Store.CreateAccountAsync(account, [test], Ct);
        var live = new ApiKey(Ids.New(Ids.LiveKey), account.Id, Modes.Live, [3, 4], T0 + TimeSpan.FromSeconds(1), null);
        await Store.AddKeyAsync(live, Ct);
        var other = await AccountAsync();
        var at = T0 + TimeSpan.FromMinutes(1);

        Assert.Equal(account, await Store.GetAccountAsync(account.Id, Ct));
        Assert.Null(await Store.GetAccountAsync(Ids.New(Ids.Account), Ct));
        Assert.Equal([test.Id, live.Id], (await Store.ListKeysAsync(account.Id, Ct)).Select(k => k.Id));
        Assert.Equal([3, 4], (await Store.FindKeyAsync(live.Id, Ct))?.SecretHash);
        Assert.False(await Store.RevokeKeyAsync(other, live.Id, at, Ct));
        Assert.True(await Store.RevokeKeyAsync(account.Id, live.Id, at, Ct));
        Assert.False(await Store.RevokeKeyAsync(account.Id, live.Id, at + TimeSpan.FromMinutes(1), Ct));
        Assert.Equal(at, (await Store.FindKeyAsync(live.Id, Ct))?.RevokedAt);
        Assert.Null((await Store.FindKeyAsync(test.Id, Ct))?.RevokedAt);
        Assert.Null(await Store.FindKeyAsync(Ids.New(Ids.TestKey), Ct));
    }

    [Fact]
    public async Task Migrated_store_answers_ping()
    {
        Assert.True(await Store.PingAsync(Ct));
    }

    // Restart

    [Fact]
    public async Task Data_and_lease_fences_survive_reopening_the_store()
    {
        var account = await AccountAsync();
        var webhook = await WebhookAsync(account, secret: [8, 8]);
        var done = Event(account);
        var inFlight = Event(account, at: T0 + TimeSpan.FromSeconds(1));
        await IngestAsync(done);
        await IngestAsync(inFlight);
        var leased = await LeaseAsync(T0 + TimeSpan.FromSeconds(1));
        await CompleteAsync(T0 + TimeSpan.FromSeconds(2), Success(leased[0], T0 + TimeSpan.FromSeconds(1)));

        await CloseAsync();
        _store = await ReopenStoreAsync();

        Assert.True(await Store.PingAsync(Ct));
        Assert.NotNull(await Store.GetAccountAsync(account, Ct));
        Assert.Equal(webhook.SecretId, (await WebhookByIdAsync(account, webhook.Id)).SecretId);
        Assert.Equal(done.Body, (await Store.GetEventAsync(account, Modes.Test, done.Id, Ct))?.Body);
        var delivered = await DeliveryAsync(account, leased[0].Id);
        Assert.Equal(DeliveryStatus.Succeeded, delivered.Delivery.Status);
        Assert.Single(delivered.Attempts);
        Assert.Empty(await LeaseAsync(T0 + TimeSpan.FromSeconds(2)));
        var takenOver = Assert.Single(await LeaseAsync(T0 + TimeSpan.FromMinutes(1), owner: "worker-b"));
        Assert.Equal(leased[1].Id, takenOver.Id);
        Assert.True(takenOver.LeaseToken > leased[1].LeaseToken);
        Assert.Equal([8, 8], takenOver.SecretCiphertext);
        Assert.Equal(1, (await CompleteAsync(T0 + TimeSpan.FromMinutes(1), Success(leased[1], T0 + TimeSpan.FromSeconds(2)))).Discarded);
    }

    // Helpers

    private async Task CloseAsync()
    {
        var store = _store;
        _store = null;
        if (store is not null)
        {
            await store.DisposeAsync();
        }
    }

    private protected async Task<string> AccountAsync()
    {
        var account = new Account(Ids.New(Ids.Account), "Acme", "ops@acme.test", T0);
        await Store.CreateAccountAsync(account, [], Ct);
        return account.Id;
    }

    private protected async Task<Webhook> WebhookAsync(
        string accountId,
        string mode = Modes.Test,
        string product = Products.Payments,
        string[]? events = null,
        bool active = true,
        byte[]? secret = null,
        string? alertEmail = null)
    {
        var id = Ids.New(Ids.Webhook);
        var stored = secret is null ? null : new WebhookSecret(Ids.New(Ids.Secret), id, secret, T0);
        var webhook = new Webhook(id, accountId, mode, product, $"https://{id.ToLowerInvariant()}.example/hook", events ?? ["*"],
            active, alertEmail, stored?.Id, T0, T0, active ? null : T0, active ? null : "disabled by merchant", null);
        await Store.CreateWebhookAsync(webhook, stored, Ct);
        return webhook;
    }

    private protected static NewEvent Event(string accountId, string name = "payment.captured", string mode = Modes.Test, string product = Products.Payments, DateTimeOffset? at = null)
    {
        var id = Ids.New(Ids.Event);
        return new NewEvent(id, accountId, mode, name, product, Encoding.UTF8.GetBytes($$"""{"id":"{{id}}","event":"{{name}}"}"""), at ?? T0, (at ?? T0) + TimeSpan.FromHours(24));
    }

    private protected static LeaseGrant Grant(DateTimeOffset expiresAt) => new("worker-a", expiresAt, MaxDeliveries: 100, MaxPerWebhook: 100, ExcludedWebhooks: []);

    private protected async Task<IngestedEvent> IngestAsync(NewEvent evt)
    {
        var result = await Store.IngestAsync(new IngestBatch([evt], null, null, null), Ct);
        Assert.Equal(IngestStatus.Created, result.Status);
        return Assert.Single(result.Events);
    }

    /// <summary>
    /// One webhook with 2,500 due deliveries (more than any bounded scan we use), older than the single due
    /// delivery of another webhook.
    /// </summary>
    private async Task<(Webhook Backlogged, Webhook Other, NewEvent Waiting)> BacklogAndOneWaitingAsync()
    {
        var account = await AccountAsync();
        var backlogged = await WebhookAsync(account, events: ["payment.captured"]);
        var other = await WebhookAsync(account, events: ["payment.failed"]);
        var backlog = Enumerable.Range(0, 2500).Select(i => Event(account, at: T0 + TimeSpan.FromMilliseconds(i))).ToArray();
        await Store.IngestAsync(new IngestBatch(backlog, null, null, null), Ct);
        var waiting = Event(account, name: "payment.failed", at: T0 + TimeSpan.FromSeconds(10));
        await IngestAsync(waiting);
        return (backlogged, other, waiting);
    }

    private protected Task<IReadOnlyList<LeasedDelivery>> LeaseAsync(
        DateTimeOffset now,
        int max = 100,
        int perWebhook = 100,
        IReadOnlyCollection<string>? excluded = null,
        string owner = "worker-a")
        => Store.LeaseDueAsync(new LeaseRequest(owner, now, LeaseFor, max, perWebhook, excluded ?? []), Ct);

    private protected Task<CompletionReport> CompleteAsync(DateTimeOffset now, params Completion[] completions)
        => Store.CompleteAsync(new CompletionBatch(completions, now, DisableAfter), Ct);

    private protected static Completion Success(LeasedDelivery delivery, DateTimeOffset startedAt)
        => Completed(delivery, startedAt, new AttemptOutcome(AttemptError.None, 200, TimeSpan.FromMilliseconds(120), "ok", null), retryAt: null);

    private protected static Completion Failure(LeasedDelivery delivery, DateTimeOffset startedAt, DateTimeOffset? retryAt, int status = 500)
        => Completed(delivery, startedAt, new AttemptOutcome(AttemptError.HttpStatus, status, TimeSpan.FromMilliseconds(80), "busy", null), retryAt);

    private static Completion Completed(LeasedDelivery delivery, DateTimeOffset startedAt, AttemptOutcome? outcome, DateTimeOffset? retryAt)
        => new(delivery.Id, delivery.WebhookId, delivery.LeaseToken, delivery.AttemptsMade + 1, delivery.Trigger, startedAt, outcome, retryAt, delivery.Deferred);

    private protected async Task<DeliveryDetail> DeliveryAsync(string accountId, string deliveryId)
        => await Store.GetDeliveryAsync(accountId, Modes.Test, deliveryId, Ct)
           ?? throw new Xunit.Sdk.XunitException($"Delivery {deliveryId} not found.");

    private async Task<Webhook> WebhookByIdAsync(string accountId, string webhookId)
        => await Store.GetWebhookAsync(accountId, Modes.Test, webhookId, Ct)
           ?? throw new Xunit.Sdk.XunitException($"Webhook {webhookId} not found.");

    private static long Count(IReadOnlyDictionary<string, long> counts, string status) => counts.GetValueOrDefault(status);

    /// <summary>Record equality compares the Events list by reference; this compares it by content.</summary>
    private sealed class WebhookComparer : IEqualityComparer<Webhook?>
    {
        public static readonly WebhookComparer Instance = new();

        public bool Equals(Webhook? x, Webhook? y)
            => x is null || y is null
                ? x is null && y is null
                : x == y with { Events = x.Events } && x.Events.SequenceEqual(y.Events);

        public int GetHashCode(Webhook? obj) => obj?.Id.GetHashCode(StringComparison.Ordinal) ?? 0;
    }
}
