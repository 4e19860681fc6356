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
