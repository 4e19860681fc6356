using System.Text;
using Hookline.Cli.Bench;
using Microsoft.AspNetCore.Http;

namespace Hookline.Cli.Tests;

/// <summary>
/// The closed loop's count of events in requests still awaiting their answer. Hookline hands a request's deliveries
/// to its workers before the 201 is back, so without that count the sink could be ahead of the ledger and the
/// progress line read a negative "outstanding".
/// </summary>
public sealed class ClosedLoopLoadTests
{
    [Fact]
    public async Task Events_in_a_request_awaiting_its_answer_are_in_flight_until_the_ledger_has_them()
    {
        const int EventsPerRequest = 3;
        var answers = 0;
        var requestArrived = new SemaphoreSlim(0);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (app, port) = await BareKestrel.StartAsync(_ => async context =>
        {
            requestArrived.Release();
            await release.Task;
            var n = Interlocked.Increment(ref answers);
            var items = string.Join(',', Enumerable.Range(0, EventsPerRequest).Select(i => $$"""{"id":"evt_{{n}}x{{i}}","deliveries":1,"skipped":0}"""));
            context.Response.StatusCode = StatusCodes.Status201Created;
            await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes($$"""{"items":[{{items}}]}"""));
        });

        await using (app)
        {
            using var client = new PlatformClient(new Uri($"http://127.0.0.1:{port}"));
            var ledger = new EventLedger();
            var load = new ClosedLoopLoad(client, "{}"u8.ToArray(), EventsPerRequest, ledger, new LatencySamples());
            using var stop = new CancellationTokenSource();
            var running = load.RunAsync(2, () => load.EventsSent, 100, stop.Token);

            // Both loops' first requests are held by the server: six events sent, none accepted yet.
            Assert.True(await requestArrived.WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.True(await requestArrived.WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.Equal(2 * EventsPerRequest, load.EventsInFlight);
            Assert.Equal(0, ledger.Events);
            Assert.Equal(2 * EventsPerRequest, load.EventsSent);

            await stop.CancelAsync();
            release.SetResult();
            await running.WaitAsync(TimeSpan.FromSeconds(10));

            // Answered: in the ledger, out of flight, nothing counted twice.
            Assert.Equal(0, load.EventsInFlight);
            Assert.Equal(2 * EventsPerRequest, ledger.Events);
            Assert.Equal(2 * EventsPerRequest, load.EventsSent);
        }
    }

    [Fact]
    public async Task A_refused_request_leaves_nothing_in_flight()
    {
        var (app, port) = await BareKestrel.StartAsync(_ => context =>
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return Task.CompletedTask;
        });

        await using (app)
        {
            using var client = new PlatformClient(new Uri($"http://127.0.0.1:{port}"));
            var ledger = new EventLedger();
            var load = new ClosedLoopLoad(client, "{}"u8.ToArray(), 5, ledger, new LatencySamples());
            using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
            await load.RunAsync(1, () => load.EventsSent, 100, stop.Token);

            Assert.True(ledger.Refused > 0);
            Assert.Equal(0, load.EventsInFlight);
            Assert.Equal(0, ledger.Events);
        }
    }
}
