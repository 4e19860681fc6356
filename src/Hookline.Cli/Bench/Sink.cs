using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Hookline.Cli.Bench;

/// <summary>One request the sink took: the event id header, which webhook path, and when (Stopwatch ticks).</summary>
internal readonly record struct Arrival(string EventId, int Webhook, long At);

/// <summary>
/// The fast receiver: Kestrel on 127.0.0.1, reads the body, answers 200 with nothing. Webhook <c>i</c> posts to
/// <c>/w/i</c>, so the sink counts per webhook and records each arrival by <c>X-Razorpay-Event-Id</c>.
/// </summary>
internal sealed class Sink : IAsyncDisposable
{
    public const int MaxWebhooks = 4096;
    private readonly WebApplication _app;
    private readonly long[] _perWebhook = new long[MaxWebhooks];
    private ConcurrentQueue<Arrival> _arrivals = new();
    private long _total;

    private Sink(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    public long Total => Interlocked.Read(ref _total);

    public static async Task<Sink> StartAsync()
    {
        Sink? sink = null;
        var (app, port) = await BareKestrel.StartAsync(_ => context => sink!.HandleAsync(context));
        sink = new Sink(app, port);
        return sink;
    }

    public string Url(int webhook) => $"http://127.0.0.1:{Port}/w/{webhook}";

    public long Received(int webhook) => Interlocked.Read(ref _perWebhook[webhook]);

    /// <summary>Requests taken by the webhooks below <paramref name="count"/>.</summary>
    public long ReceivedBelow(int count)
    {
        long sum = 0;
        for (var i = 0; i < count; i++)
        {
            sum += Interlocked.Read(ref _perWebhook[i]);
        }

        return sum;
    }

    /// <summary>Forgets everything received so far (between scenarios).</summary>
    public void Reset()
    {
        _arrivals = new ConcurrentQueue<Arrival>();
        Array.Clear(_perWebhook);
        Interlocked.Exchange(ref _total, 0);
    }

    public Arrival[] Arrivals() => [.. _arrivals];

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var reader = context.Request.BodyReader;
        while (true)
        {
            var read = await reader.ReadAsync(context.RequestAborted);
            reader.AdvanceTo(read.Buffer.End);
            if (read.IsCompleted)
            {
                break;
            }
        }

        var at = Stopwatch.GetTimestamp();
        var webhook = WebhookOf(context.Request.Path);
        Interlocked.Increment(ref _perWebhook[webhook]);
        Interlocked.Increment(ref _total);
        _arrivals.Enqueue(new Arrival(context.Request.Headers["X-Razorpay-Event-Id"].ToString(), webhook, at));
        context.Response.StatusCode = 200;
        context.Response.ContentLength = 0;
    }

    private static int WebhookOf(PathString path)
    {
        var value = path.Value.AsSpan();
        return value.StartsWith("/w/") && int.TryParse(value[3..], System.Globalization.NumberStyles.None, null, out var n) && n is >= 0 and < MaxWebhooks ? n : 0;
    }
}
