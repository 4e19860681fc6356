using System.Collections.Concurrent;
using Hookline.Core.Delivery;
using Hookline.Testing;

namespace Hookline.Core.Tests.Delivery;

public sealed class DeliveryLanesTests
{
    private const int Cap = 4;
    private const int MaxDepth = 64;
    private const int MaxDepthBytes = 64 * 1024;

    [Fact]
    public async Task A_lane_starts_at_the_cap_and_a_fast_endpoint_takes_it_deep_into_deep_rounds_only()
    {
        var harness = new Harness();
        await harness.EnqueueUntilCapAsync("wh_fast", 2 * Cap);

        // Nothing measured yet: a cap's worth waiting saturates the lane, as it always did.
        Assert.Equal(Cap, harness.Lanes.DepthOf("wh_fast"));
        Assert.Contains("wh_fast", harness.Lanes.Saturated());
        Assert.Null(harness.Lanes.DeepShare());
        Assert.False(harness.Lanes.NormalShare().LeavesOutOnlyDeepLanes);

        // Attempts of a millisecond: at that pace the lane can hold far more than a second's budget allows.
        harness.Time.Advance(TimeSpan.FromMilliseconds(1));
        await harness.FinishAsync(Cap);

        Assert.Equal(MaxDepth, harness.Lanes.DepthOf("wh_fast"));
        Assert.DoesNotContain("wh_fast", harness.Lanes.Saturated());
        var deep = harness.Lanes.DeepShare();
        Assert.NotNull(deep);
        Assert.DoesNotContain("wh_fast", deep.Excluded);
        Assert.Equal(MaxDepth, deep.PerWebhook);
        Assert.Contains("wh_fast", harness.Lanes.NormalShare().Excluded);
        Assert.True(harness.Lanes.NormalShare().LeavesOutOnlyDeepLanes);
    }

    [Fact]
    public async Task A_stall_that_lengthens_every_attempt_in_flight_leaves_a_busy_lane_deep_until_it_stops_finishing()
    {
        var harness = new Harness();
        await harness.EnqueueUntilCapAsync("wh_busy", 100);

        // Attempts of 10 ms, a cap's worth at a time: 400 a second, more than the deepest lane holds in its second's budget.
        for (var round = 0; round < 15; round++)
        {
            harness.Time.Advance(TimeSpan.FromMilliseconds(10));
            await harness.FinishAsync(Cap);
        }

        Assert.Equal(MaxDepth, harness.Lanes.DepthOf("wh_busy"));

        // The whole process stalls for 150 ms (a collection, a starved thread pool): every attempt in flight reads 150 ms,
        // and the moving pace, about 93 ms, alone would give a second's budget a depth of 43. The lane still finishes
        // hundreds a second, and one window that finished few does not lower its depth.
        harness.Time.Advance(TimeSpan.FromMilliseconds(150));
        await harness.FinishAsync(Cap);
        Assert.Equal(MaxDepth, harness.Lanes.DepthOf("wh_busy"));
        Assert.DoesNotContain("wh_busy", harness.Lanes.ForIngestion().Excluded);

        // Then nothing finishes for a while (the endpoint hangs): the rate is stale, and the pace alone decides.
        harness.Time.Advance(DeliveryLanes.RateWindow * 2);
        Assert.InRange(harness.Lanes.DepthOf("wh_busy"), Cap + 1, MaxDepth - 1);
    }

    [Fact]
    public async Task A_lane_that_finishes_few_a_second_keeps_the_depth_its_pace_gives()
    {
        var harness = new Harness();
        harness.Lanes.Enqueue(harness.Deliveries("wh_quiet", 1));
        await harness.WaitUntilAsync(() => harness.Running.Count == 1);

        // One attempt at a time, each 125 ms: eight a second finished, while its pace says a full lane would send
        // thirty-two (4 × 1 s ÷ 0.125 s). A lane that is not busy is not slow: its depth is what its pace gives.
        for (var round = 0; round < 4; round++)
        {
            harness.Time.Advance(TimeSpan.FromMilliseconds(125));
            harness.Lanes.Enqueue(harness.Deliveries("wh_quiet", 1));
            await harness.WaitUntilAsync(() => harness.Running.Count == 2);
            await harness.FinishAsync(1);
        }

        Assert.Equal(32, harness.Lanes.DepthOf("wh_quiet"));
    }

    [Fact]
    public async Task Large_bodies_keep_a_fast_lane_within_its_bytes_and_its_webhook_remembers_their_size()
    {
        var harness = new Harness();
        harness.Lanes.Enqueue(harness.Deliveries("wh_big", 2 * Cap, bodyBytes: 4096));
        await harness.WaitUntilAsync(() => harness.Running.Count == Cap);
        harness.Time.Advance(TimeSpan.FromMilliseconds(1));
        await harness.FinishAsync(Cap);

        // As fast as the first test's webhook, which went to MaxDepth; sixteen of these 4 KiB bodies fill the lane's bytes.
        Assert.Equal(MaxDepthBytes / 4096, harness.Lanes.DepthOf("wh_big"));
        Assert.Equal(MaxDepthBytes / 4096, harness.Lanes.DeepShare()?.PerWebhook);

        await harness.FinishAsync(Cap);
        Assert.Equal(0, harness.Lanes.Count);
        Assert.Equal(MaxDepthBytes / 4096, harness.Lanes.DepthOf("wh_big"));
        Assert.Equal(MaxDepthBytes / 4096, harness.Lanes.ForIngestion().Deeper?["wh_big"]);

        // Bodies larger than all the bytes a lane may hold: still a cap's worth, as for a webhook nothing is known of.
        harness.Lanes.Enqueue(harness.Deliveries("wh_big", 20, bodyBytes: 1024 * 1024));
        Assert.Equal(Cap, harness.Lanes.DepthOf("wh_big"));
        Assert.Contains("wh_big", harness.Lanes.Saturated());
    }

    [Fact]
    public async Task A_hanging_endpoint_keeps_a_shallow_lane_and_stays_out_of_deep_rounds()
    {
        var harness = new Harness();
        await harness.EnqueueUntilCapAsync("wh_fast", Cap);
        harness.Time.Advance(TimeSpan.FromMilliseconds(1));
        await harness.FinishAsync(Cap);

        // Every attempt to the slow endpoint takes the whole 5 s timeout.
        await harness.EnqueueUntilCapAsync("wh_slow", 2 * Cap);
        harness.Time.Advance(TimeSpan.FromSeconds(5));
        await harness.FinishAsync(Cap);

        // The fast webhook's lane emptied and went away; its pace is remembered when work comes back.
        harness.Lanes.Enqueue(harness.Deliveries("wh_fast", 1));
        await harness.WaitUntilAsync(() => harness.Running.Count == Cap + 1);

        Assert.Equal(Cap, harness.Lanes.DepthOf("wh_slow"));
        Assert.Equal(MaxDepth, harness.Lanes.DepthOf("wh_fast"));
        var deep = harness.Lanes.DeepShare();
        Assert.NotNull(deep);
        Assert.Contains("wh_slow", deep.Excluded);
        Assert.DoesNotContain("wh_fast", deep.Excluded);
        var normal = harness.Lanes.NormalShare();
        Assert.Equal(Cap, normal.PerWebhook);
        Assert.DoesNotContain("wh_slow", normal.Excluded);
        Assert.Contains("wh_fast", normal.Excluded);
    }

    [Fact]
    public async Task A_fast_webhook_whose_lane_emptied_is_fed_deep_at_once_and_a_slow_one_is_not()
    {
        var harness = new Harness();
        await harness.EnqueueUntilCapAsync("wh_fast", Cap);
        harness.Time.Advance(TimeSpan.FromMilliseconds(1));
        await harness.FinishAsync(Cap);
        await harness.EnqueueUntilCapAsync("wh_slow", Cap);
        harness.Time.Advance(TimeSpan.FromSeconds(5));
        await harness.FinishAsync(Cap);

        // Both lanes emptied and went away. The next work for the fast webhook (the grant of the next ingestion) is
        // worth its depth in one piece, as if its lane were still there with nothing waiting; the slow one keeps a
        // cap's worth, so nothing granted to it ages in memory.
        Assert.Equal(0, harness.Lanes.Count);
        Assert.Equal(MaxDepth, harness.Lanes.DepthOf("wh_fast"));
        Assert.Equal(Cap, harness.Lanes.DepthOf("wh_slow"));
        var grant = harness.Lanes.ForIngestion();
        Assert.Equal(new Dictionary<string, int> { ["wh_fast"] = MaxDepth }, grant.Deeper);
        Assert.Equal(Cap, grant.PerWebhook);
        Assert.Empty(grant.Excluded);

        // Once its lane is back, the lane speaks for it: what its depth has room for.
        await harness.EnqueueUntilCapAsync("wh_fast", Cap + 10);
        Assert.Equal(new Dictionary<string, int> { ["wh_fast"] = MaxDepth - 10 }, harness.Lanes.ForIngestion().Deeper);
    }

    [Fact]
    public async Task A_lane_that_was_full_at_an_ingestion_takes_no_grant_until_a_lease_round_finds_nothing_more_for_it()
    {
        var harness = new Harness();
        await harness.EnqueueUntilCapAsync("wh_fast", Cap);
        harness.Time.Advance(TimeSpan.FromMilliseconds(1));
        await harness.FinishAsync(Cap);

        // Its depth waiting: the grant leaves it out, and that ingestion's deliveries for it go to lease rounds.
        await harness.EnqueueUntilCapAsync("wh_fast", Cap + MaxDepth);
        Assert.Contains("wh_fast", harness.Lanes.ForIngestion().Excluded);

        // With room again it still owes those: newer deliveries must not overtake them.
        await harness.FinishAsync(Cap);
        await harness.WaitUntilAsync(() => harness.Running.Count == Cap);
        Assert.Contains("wh_fast", harness.Lanes.ForIngestion().Excluded);

        // A round that stopped at its room proves nothing; one that found less than its share for it settles it.
        var round = new LaneShare(MaxDepth, []);
        harness.Lanes.Settle(round, harness.Deliveries("wh_fast", 1).ToList(), full: true);
        Assert.Contains("wh_fast", harness.Lanes.ForIngestion().Excluded);
        harness.Lanes.Settle(new LaneShare(MaxDepth, ["wh_fast"]), [], full: false);
        Assert.Contains("wh_fast", harness.Lanes.ForIngestion().Excluded);
        harness.Lanes.Settle(round, harness.Deliveries("wh_fast", 1).ToList(), full: false);
        var grant = harness.Lanes.ForIngestion();
        Assert.DoesNotContain("wh_fast", grant.Excluded);
        Assert.Equal(Cap, grant.Deeper!["wh_fast"]);
    }

    [Fact]
    public async Task A_deep_lane_that_ran_dry_while_more_was_due_is_fed_deep_until_a_round_finds_nothing_more()
    {
        var harness = new Harness();
        var asked = 0;
        harness.Lanes.LaneUnsaturated += () => Interlocked.Increment(ref asked);
        await harness.EnqueueUntilCapAsync("wh_fast", Cap);
        harness.Time.Advance(TimeSpan.FromMilliseconds(1));
        await harness.FinishAsync(Cap);

        // Deep now, and emptied with nothing said about the store: no deep round for it.
        Assert.Equal(MaxDepth, harness.Lanes.DepthOf("wh_fast"));
        Assert.Null(harness.Lanes.DeepShare());

        // A round that took less than its share for it: nothing more was due, so emptying asks for nothing.
        await LeaseRoundAsync(new LaneShare(2 * Cap, []), Cap);
        Assert.Null(harness.Lanes.DeepShare());
        Assert.Equal(0, Volatile.Read(ref asked));

        // A round that took its whole share: more is due, so the lane running dry asks for a deep round for it, its depth.
        await LeaseRoundAsync(new LaneShare(Cap, []), Cap);
        Assert.Equal(1, Volatile.Read(ref asked));
        var deep = harness.Lanes.DeepShare();
        Assert.NotNull(deep);
        Assert.Equal(MaxDepth, deep.PerWebhook);
        Assert.DoesNotContain("wh_fast", deep.Excluded);

        // A round that stopped at its room, or left the webhook out, says nothing; one that served it and found nothing settles it.
        harness.Lanes.Settle(deep, [], full: true);
        harness.Lanes.Settle(new LaneShare(MaxDepth, ["wh_fast"]), [], full: false);
        Assert.NotNull(harness.Lanes.DeepShare());
        harness.Lanes.Settle(deep, [], full: false);
        Assert.Null(harness.Lanes.DeepShare());

        async Task LeaseRoundAsync(LaneShare share, int count)
        {
            var leased = harness.Deliveries("wh_fast", count).ToList();
            harness.Lanes.Enqueue(leased);
            harness.Lanes.Settle(share, leased, full: false);
            await harness.WaitUntilAsync(() => harness.Running.Count == count);
            await harness.FinishAsync(count);
        }
    }

    [Fact]
    public async Task A_lane_that_drains_to_half_its_depth_asks_for_more_once()
    {
        var harness = new Harness();
        var asked = 0;
        harness.Lanes.LaneUnsaturated += () => Interlocked.Increment(ref asked);
        await harness.EnqueueUntilCapAsync("wh_a", 2 * Cap);

        await harness.FinishAsync(1);
        Assert.Equal(0, Volatile.Read(ref asked));

        // Waiting falls from 3 to 2, half the depth of 4.
        await harness.FinishAsync(1);
        await harness.WaitUntilAsync(() => Volatile.Read(ref asked) == 1);
        await harness.FinishAsync(1);
        await Task.Delay(50);
        Assert.Equal(1, Volatile.Read(ref asked));
    }

    [Fact]
    public async Task A_lane_whose_attempts_keep_failing_holds_then_probes_one_at_a_time_until_one_succeeds()
    {
        var harness = new Harness();
        await harness.EnqueueUntilCapAsync("wh_down", 4 * Cap);

        // Refused in a millisecond: fast failures. One short of holding, the lane goes on at its cap.
        harness.Time.Advance(TimeSpan.FromMilliseconds(1));
        await harness.FinishAsync(DeliveryLanes.HoldAfter - 1, succeeded: false);
        Assert.Equal(Cap, harness.Running.Count);
        Assert.Equal(0, harness.Lanes.Holding);

        // The failure that makes HoldAfter in a row: nothing more starts, and the attempts already out finish alone.
        await harness.FinishAsync(1, succeeded: false);
        Assert.Equal(1, harness.Lanes.Holding);
        Assert.Equal(Cap, harness.Lanes.DepthOf("wh_down"));
        await harness.FinishAsync(Cap - 1, succeeded: false);
        Assert.Empty(harness.Running);
        Assert.Equal((4 * Cap) - DeliveryLanes.HoldAfter - (Cap - 1), harness.Lanes.Count);

        // The hold is FirstHold: not a moment before it ends does anything start; then exactly one probe.
        harness.Time.Advance(DeliveryLanes.FirstHold - TimeSpan.FromMilliseconds(1));
        await Task.Delay(50);
        Assert.Empty(harness.Running);
        harness.Time.Advance(TimeSpan.FromMilliseconds(1));
        await harness.WaitUntilAsync(() => harness.Running.Count == 1);
        await Task.Delay(50);
        Assert.Single(harness.Running);

        // A failed probe doubles the hold.
        await harness.FinishAsync(1, succeeded: false);
        harness.Time.Advance(DeliveryLanes.FirstHold);
        await Task.Delay(50);
        Assert.Empty(harness.Running);
        harness.Time.Advance(DeliveryLanes.FirstHold);
        await harness.WaitUntilAsync(() => harness.Running.Count == 1);

        // A probe that succeeds ends it: the lane runs at its cap again.
        await harness.FinishAsync(1, succeeded: true);
        await harness.WaitUntilAsync(() => harness.Running.Count == Math.Min(Cap, harness.Lanes.Count));
        Assert.Equal(0, harness.Lanes.Holding);
        Assert.Equal(Cap, harness.Running.Count);
    }

    [Fact]
    public async Task A_lane_that_fails_now_and_then_never_holds()
    {
        var harness = new Harness();
        await harness.EnqueueUntilCapAsync("wh_flaky", 40);
        for (var round = 0; round < 4; round++)
        {
            await harness.FinishAsync(DeliveryLanes.HoldAfter - 1, succeeded: false);
            await harness.FinishAsync(1, succeeded: true);
        }

        Assert.Equal(0, harness.Lanes.Holding);
        Assert.Equal(Cap, harness.Running.Count);
    }

    [Fact]
    public async Task Each_failed_probe_doubles_the_hold_up_to_the_longest()
    {
        var harness = new Harness();
        await harness.EnqueueUntilCapAsync("wh_down", 40);
        await harness.FinishAsync(DeliveryLanes.HoldAfter, succeeded: false);
        Assert.Equal(1, harness.Lanes.Holding);

        // Attempts that were out when the hold began fail inside it and do not lengthen it.
        await harness.FinishAsync(harness.Running.Count, succeeded: false);

        var waits = new[] { 1, 2, 4, 5, 5 };
        Assert.Equal(TimeSpan.FromSeconds(waits[0]), DeliveryLanes.FirstHold);
        Assert.Equal(TimeSpan.FromSeconds(waits[^1]), DeliveryLanes.LongestHold);
        foreach (var seconds in waits)
        {
            harness.Time.Advance(TimeSpan.FromSeconds(seconds) - TimeSpan.FromMilliseconds(1));
            await Task.Delay(50);
            Assert.Empty(harness.Running);
            harness.Time.Advance(TimeSpan.FromMilliseconds(1));
            await harness.WaitUntilAsync(() => !harness.Running.IsEmpty);
            await Task.Delay(20);
            Assert.Single(harness.Running);
            await harness.FinishAsync(1, succeeded: false);
        }
    }

    [Fact]
    public async Task A_webhook_that_holds_is_remembered_when_its_lane_empties_and_is_granted_no_depth()
    {
        var harness = new Harness();
        await harness.EnqueueUntilCapAsync("wh_down", DeliveryLanes.HoldAfter);
        harness.Time.Advance(TimeSpan.FromMilliseconds(1));
        await harness.FinishAsync(Cap, succeeded: false);
        await harness.WaitUntilAsync(() => harness.Running.Count == 1);
        await harness.FinishAsync(1, succeeded: false);

        // Its lane is gone (nothing waits), its millisecond pace would make it deep; the failures say otherwise.
        Assert.Equal(0, harness.Lanes.Count);
        Assert.Equal(1, harness.Lanes.Holding);
        Assert.Equal(Cap, harness.Lanes.DepthOf("wh_down"));
        var grant = harness.Lanes.ForIngestion();
        Assert.True(grant.Deeper is null || !grant.Deeper.ContainsKey("wh_down"));

        // New work for it waits out the hold, then goes one probe at a time.
        harness.Lanes.Enqueue(harness.Deliveries("wh_down", Cap));
        await Task.Delay(50);
        Assert.Empty(harness.Running);
        harness.Time.Advance(DeliveryLanes.FirstHold);
        await harness.WaitUntilAsync(() => harness.Running.Count == 1);
        await Task.Delay(50);
        Assert.Single(harness.Running);
    }

    [Fact]
    public async Task Clearing_a_webhooks_failures_ends_its_hold_at_once_here_and_in_what_its_lane_left_behind()
    {
        var harness = new Harness();
        await harness.EnqueueUntilCapAsync("wh_fixed", DeliveryLanes.HoldAfter + (2 * Cap));
        await harness.FinishAsync(DeliveryLanes.HoldAfter, succeeded: false);
        await harness.FinishAsync(harness.Running.Count, succeeded: false);
        Assert.Empty(harness.Running);
        Assert.Equal(1, harness.Lanes.Holding);

        // The merchant fixed the URL: the waiting deliveries go now, at the lane's cap, without the clock moving.
        harness.Lanes.ClearFailures("wh_fixed");
        await harness.WaitUntilAsync(() => harness.Running.Count == Cap);
        Assert.Equal(0, harness.Lanes.Holding);

        // Held again, then gone (nothing waits): clearing reaches what the lane left behind.
        await harness.FinishAsync(DeliveryLanes.HoldAfter, succeeded: false);
        await harness.FinishAsync(harness.Running.Count, succeeded: false);
        harness.Time.Advance(DeliveryLanes.LongestHold);
        while (harness.Lanes.Count > 0)
        {
            await harness.WaitUntilAsync(() => !harness.Running.IsEmpty);
            await harness.FinishAsync(1, succeeded: false);
            harness.Time.Advance(DeliveryLanes.LongestHold);
        }

        Assert.Equal(1, harness.Lanes.Holding);
        harness.Lanes.ClearFailures("wh_fixed");
        Assert.Equal(0, harness.Lanes.Holding);
        await harness.EnqueueUntilCapAsync("wh_fixed", Cap);
    }

    [Fact]
    public async Task A_new_url_sends_what_waits_in_the_lane_there_in_the_same_order()
    {
        var harness = new Harness();
        var deliveries = harness.Deliveries("wh_moved", DeliveryLanes.HoldAfter + Cap).ToList();
        harness.Lanes.Enqueue(deliveries);
        await harness.WaitUntilAsync(() => harness.Running.Count == Cap);
        await harness.FinishAsync(DeliveryLanes.HoldAfter, succeeded: false);
        await harness.FinishAsync(harness.Running.Count, succeeded: false);

        harness.Lanes.ClearFailures("wh_moved", "https://fixed.example.com/hooks");
        await harness.WaitUntilAsync(() => harness.Started.Count == deliveries.Count);

        var started = harness.Started.ToList();
        Assert.Equal(deliveries.Select(d => d.Id), started.Select(d => d.Id));
        var untilHold = DeliveryLanes.HoldAfter + Cap - 1;
        Assert.All(started.Take(untilHold), d => Assert.Equal("https://example.com/", d.Url));
        Assert.All(started.Skip(untilHold), d => Assert.Equal("https://fixed.example.com/hooks", d.Url));
    }

    [Fact]
    public async Task After_stop_queued_deliveries_stay_queued_for_their_leases()
    {
        var harness = new Harness();
        await harness.EnqueueUntilCapAsync("wh_a", 2 * Cap);

        harness.Lanes.Stop();
        var idle = harness.Lanes.WhenNothingInFlightAsync();
        await harness.FinishAsync(Cap);
        await idle.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(0, harness.Lanes.InFlight);
        Assert.Equal(Cap, harness.Lanes.Count);
        Assert.Empty(harness.Running);
    }

    private sealed class Harness
    {
        private int _next;

        public Harness()
        {
            Lanes = new DeliveryLanes(maxConcurrency: 100, Cap, MaxDepth, MaxDepthBytes, Time, delivery =>
            {
                var done = new TaskCompletionSource<bool?>(TaskCreationOptions.RunContinuationsAsynchronously);
                Started.Enqueue(delivery);
                Running.Enqueue(done);
                return done.Task;
            });
        }

        public ManualTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

        public ConcurrentQueue<TaskCompletionSource<bool?>> Running { get; } = new();

        /// <summary>Every delivery the lanes started, in order.</summary>
        public ConcurrentQueue<LeasedDelivery> Started { get; } = new();

        public DeliveryLanes Lanes { get; }

        public IEnumerable<LeasedDelivery> Deliveries(string webhookId, int count, int bodyBytes = 0)
        {
            var now = Time.GetUtcNow();
            return [.. Enumerable.Range(0, count).Select(_ => new LeasedDelivery(
                $"dlv_{Interlocked.Increment(ref _next):D14}", "evt_00000000000000", webhookId, "acc_00000000000000", "https://example.com/",
                new byte[bodyBytes], now, now.AddDays(1), null, 0, AttemptTrigger.Initial, 1, now.AddMinutes(1)))];
        }

        /// <summary>Enqueues <paramref name="count"/> deliveries for the webhook and waits until a cap's worth of attempts run.</summary>
        public async Task EnqueueUntilCapAsync(string webhookId, int count)
        {
            Lanes.Enqueue(Deliveries(webhookId, count));
            await WaitUntilAsync(() => Running.Count == Cap);
        }

        /// <summary>
        /// Completes the <paramref name="count"/> oldest attempts (as the endpoint taking them, or failing them) and waits
        /// until the lanes have taken note.
        /// </summary>
        public async Task FinishAsync(int count, bool succeeded = true)
        {
            for (var i = 0; i < count; i++)
            {
                var held = Lanes.Count;
                Assert.True(Running.TryDequeue(out var attempt));
                attempt.SetResult(succeeded);
                await WaitUntilAsync(() => Lanes.Count < held && Running.Count == Lanes.InFlight);
            }
        }

        public async Task WaitUntilAsync(Func<bool> condition)
        {
            var until = Environment.TickCount64 + 10_000;
            while (!condition())
            {
                Assert.True(Environment.TickCount64 < until, "timed out");
                await Task.Delay(5);
            }
        }
    }
}
