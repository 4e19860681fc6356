using System.Collections.Concurrent;
using Hookline.Core.Delivery;
using Hookline.Testing;

namespace Hookline.Core.Tests.Delivery;

public sealed class DeliveryLanesTests
{
    private const int Cap = 4;
    private const int MaxDepth = 64;

    [Fact]
    public async Task A_lane_starts_at_the_cap_and_a_fast_endpoint_takes_it_deep_into_deep_rounds_only()
    {
        var harness = new Harness();
        harness.Lanes.Enqueue(harness.Deliveries("wh_fast", 2 * Cap));
        await harness.WaitUntilAsync(() => harness.Running.Count == Cap);

        // Nothing measured yet: a cap's worth waiting saturates the lane, as it always did.
        Assert.Equal(Cap, harness.Lanes.DepthOf("wh_fast"));
        Assert.Contains("wh_fast", harness.Lanes.Saturated());
        Assert.Null(harness.Lanes.DeepShare());

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
    }

    [Fact]
    public async Task A_hanging_endpoint_keeps_a_shallow_lane_and_stays_out_of_deep_rounds()
    {
        var harness = new Harness();
        harness.Lanes.Enqueue(harness.Deliveries("wh_fast", Cap));
        await harness.WaitUntilAsync(() => harness.Running.Count == Cap);
        harness.Time.Advance(TimeSpan.FromMilliseconds(1));
        await harness.FinishAsync(Cap);

        // Every attempt to the slow endpoint takes the whole 5 s timeout.
        harness.Lanes.Enqueue(harness.Deliveries("wh_slow", 2 * Cap));
        await harness.WaitUntilAsync(() => harness.Running.Count == Cap);
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
        harness.Lanes.Enqueue(harness.Deliveries("wh_fast", Cap));
        await harness.WaitUntilAsync(() => harness.Running.Count == Cap);
        harness.Time.Advance(TimeSpan.FromMilliseconds(1));
        await harness.FinishAsync(Cap);
        harness.Lanes.Enqueue(harness.Deliveries("wh_slow", Cap));
        await harness.WaitUntilAsync(() => harness.Running.Count == Cap);
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
        harness.Lanes.Enqueue(harness.Deliveries("wh_fast", Cap + 10));
        await harness.WaitUntilAsync(() => harness.Running.Count == Cap);
        Assert.Equal(new Dictionary<string, int> { ["wh_fast"] = MaxDepth - 10 }, harness.Lanes.ForIngestion().Deeper);
    }

    [Fact]
    public async Task A_lane_that_was_full_at_an_ingestion_takes_no_grant_until_a_lease_round_finds_nothing_more_for_it()
    {
        var harness = new Harness();
        harness.Lanes.Enqueue(harness.Deliveries("wh_fast", Cap));
        await harness.WaitUntilAsync(() => harness.Running.Count == Cap);
        harness.Time.Advance(TimeSpan.FromMilliseconds(1));
        await harness.FinishAsync(Cap);

        // Its depth waiting: the grant leaves it out, and that ingestion's deliveries for it go to lease rounds.
        harness.Lanes.Enqueue(harness.Deliveries("wh_fast", Cap + MaxDepth));
        await harness.WaitUntilAsync(() => harness.Running.Count == Cap);
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
    public async Task A_lane_that_drains_to_half_its_depth_asks_for_more_once()
    {
        var harness = new Harness();
        var asked = 0;
        harness.Lanes.LaneUnsaturated += () => Interlocked.Increment(ref asked);
        harness.Lanes.Enqueue(harness.Deliveries("wh_a", 2 * Cap));
        await harness.WaitUntilAsync(() => harness.Running.Count == Cap);

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
    public async Task After_stop_queued_deliveries_stay_queued_for_their_leases()
    {
        var harness = new Harness();
        harness.Lanes.Enqueue(harness.Deliveries("wh_a", 2 * Cap));
        await harness.WaitUntilAsync(() => harness.Running.Count == Cap);

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
            Lanes = new DeliveryLanes(maxConcurrency: 100, Cap, MaxDepth, Time, delivery =>
            {
                var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                Running.Enqueue(done);
                return done.Task;
            });
        }

        public ManualTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

        public ConcurrentQueue<TaskCompletionSource> Running { get; } = new();

        public DeliveryLanes Lanes { get; }

        public IEnumerable<LeasedDelivery> Deliveries(string webhookId, int count)
        {
            var now = Time.GetUtcNow();
            return [.. Enumerable.Range(0, count).Select(_ => new LeasedDelivery(
                $"dlv_{Interlocked.Increment(ref _next):D14}", "evt_00000000000000", webhookId, "acc_00000000000000", "https://example.com/",
                [], now, now.AddDays(1), null, 0, AttemptTrigger.Initial, 1, now.AddMinutes(1)))];
        }

        /// <summary>Completes the <paramref name="count"/> oldest attempts and waits until the lanes have taken note.</summary>
        public async Task FinishAsync(int count)
        {
            for (var i = 0; i < count; i++)
            {
                var held = Lanes.Count;
                Assert.True(Running.TryDequeue(out var attempt));
                attempt.SetResult();
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
