using Hookline.Server.Tests.Infrastructure;

namespace Hookline.Server.Tests.Deliveries;

public sealed class IsolationTests
{
    [Fact]
    public async Task Hanging_endpoints_cannot_starve_a_healthy_one_and_never_exceed_their_concurrency_cap()
    {
        const int cap = 2;
        await using var host = await HooklineHost.StartAsync(new Dictionary<string, string?>
        {
            ["Delivery:MaxConcurrencyPerWebhook"] = cap.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Delivery:MaxConcurrency"] = "16",
            ["Delivery:Timeout"] = "00:00:30",
            ["Delivery:LeaseDuration"] = "00:01:00",
        });
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hanging = new List<(TestReceiver Receiver, ConcurrencyGauge Gauge)>();
        var account = await host.CreateAccountAsync();
        for (var i = 0; i < 6; i++)
        {
            var gauge = new ConcurrencyGauge();
            var receiver = await TestReceiver.StartAsync(async (_, context) =>
            {
                using var entered = gauge.Enter();
                await release.Task.WaitAsync(context.RequestAborted);
            });
            hanging.Add((receiver, gauge));
            await account.CreateWebhookAsync(receiver.Url.ToString(), events: new[] { "payment.captured" });
        }

        await using var healthy = await TestReceiver.StartAsync();
        await account.CreateWebhookAsync(healthy.Url.ToString(), events: new[] { "refund.processed" });

        try
        {
            // 6 hanging webhooks × 10 events would take 60 slots, far above the global cap of 16.
            for (var i = 0; i < 10; i++)
            {
                await host.PublishAsync(account.Id, "payment.captured");
            }

            for (var i = 0; i < 20; i++)
            {
                await host.PublishAsync(account.Id, "refund.processed", payload: new { refund = new { entity = new { id = $"rfnd_{i:D14}" } } });
            }

            // Every healthy delivery arrives while all hanging requests are still held open.
            await healthy.WaitForAsync(20);
            Assert.False(release.Task.IsCompleted);
            foreach (var (receiver, gauge) in hanging)
            {
                Assert.True(gauge.Max <= cap, $"a hanging endpoint saw {gauge.Max} concurrent requests; cap is {cap}");
                Assert.True(receiver.Count <= cap);
            }
        }
        finally
        {
            release.TrySetResult();
            foreach (var (receiver, _) in hanging)
            {
                await receiver.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task An_endpoint_that_keeps_failing_is_held_to_a_probe_at_a_time_and_gets_everything_once_it_answers()
    {
        const int cap = 4;
        const int events = 40;
        await using var host = await HooklineHost.StartAsync(new Dictionary<string, string?>
        {
            ["Delivery:MaxConcurrencyPerWebhook"] = cap.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Delivery:RetryBaseDelay"] = "00:00:01",
        });
        var up = false;
        var delivered = new System.Collections.Concurrent.ConcurrentDictionary<string, bool>();
        await using var flaky = await TestReceiver.StartAsync((_, context) =>
        {
            if (!Volatile.Read(ref up))
            {
                context.Response.StatusCode = 500;
                return Task.CompletedTask;
            }

            delivered[context.Request.Headers["X-Razorpay-Event-Id"].ToString()] = true;
            context.Response.StatusCode = 200;
            return Task.CompletedTask;
        });
        await using var healthy = await TestReceiver.StartAsync();
        var account = await host.CreateAccountAsync();
        await account.CreateWebhookAsync(flaky.Url.ToString(), events: new[] { "payment.captured" });
        await account.CreateWebhookAsync(healthy.Url.ToString(), events: new[] { "refund.processed" });

        for (var i = 0; i < events; i++)
        {
            await host.PublishAsync(account.Id, "payment.captured");
        }

        for (var i = 0; i < 20; i++)
        {
            await host.PublishAsync(account.Id, "refund.processed", payload: new { refund = new { entity = new { id = $"rfnd_{i:D14}" } } });
        }

        // Without the hold, each of the forty deliveries would be tried at once, and again every second or two.
        await flaky.WaitForAsync(Hookline.Core.Delivery.DeliveryLanes.HoldAfter);
        var held = System.Diagnostics.Stopwatch.StartNew();
        await healthy.WaitForAsync(20);
        await Task.Delay(TimeSpan.FromSeconds(2));
        var bound = Hookline.Core.Delivery.DeliveryLanes.HoldAfter + (cap - 1) + ProbesWithin(held.Elapsed) + 1;
        Assert.True(flaky.Count <= bound, $"a failing endpoint got {flaky.Count} attempts in its first seconds; at most {bound} expected");
        Assert.Equal(1, await HoldingAsync(host));

        // It answers again: the next probe succeeds, and every delivery arrives (retries included) without any lost.
        Volatile.Write(ref up, true);
        var until = Environment.TickCount64 + 60_000;
        while (delivered.Count < events)
        {
            Assert.True(Environment.TickCount64 < until, $"{delivered.Count} of {events} delivered after the endpoint came back ({flaky.Count} requests in all)");
            await Task.Delay(50);
        }

        Assert.Equal(0, await HoldingAsync(host));
    }

    /// <summary>How many probes the holds (1 s, doubling to 5 s) allow in <paramref name="elapsed"/>.</summary>
    private static int ProbesWithin(TimeSpan elapsed)
    {
        var (probes, hold, at) = (0, Hookline.Core.Delivery.DeliveryLanes.FirstHold, TimeSpan.Zero);
        while ((at += hold) <= elapsed)
        {
            probes++;
            hold = hold * 2 < Hookline.Core.Delivery.DeliveryLanes.LongestHold ? hold * 2 : Hookline.Core.Delivery.DeliveryLanes.LongestHold;
        }

        return probes;
    }

    private static async Task<int> HoldingAsync(HooklineHost host)
    {
        var metrics = await host.Platform.GetStringAsync("/metrics");
        var line = metrics.Split('\n').Single(l => l.StartsWith("hookline_dispatcher_webhooks_holding ", StringComparison.Ordinal));
        return int.Parse(line.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    private sealed class ConcurrencyGauge
    {
        private int _current;
        private int _max;

        public int Max => Volatile.Read(ref _max);

        public IDisposable Enter()
        {
            var now = Interlocked.Increment(ref _current);
            int seen;
            while (now > (seen = Volatile.Read(ref _max)) && Interlocked.CompareExchange(ref _max, now, seen) != seen)
            {
            }

            return new Exit(this);
        }

        private sealed class Exit(ConcurrencyGauge gauge) : IDisposable
        {
            public void Dispose() => Interlocked.Decrement(ref gauge._current);
        }
    }
}
