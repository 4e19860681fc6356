using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Hookline.Server.Tests.Infrastructure;

internal sealed record ReceivedRequest(int Number, string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var value) ? value : "";
}

/// <summary>
/// A webhook receiver on real Kestrel at 127.0.0.1, scripted per request: the handler sees the request number
/// (1-based) and writes whatever response the test wants. Every request is recorded with its raw body.
/// </summary>
internal sealed class TestReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedRequest> _requests = new();
    private readonly SemaphoreSlim _arrived = new(0);
    private int _count;
    private int _number;

    private TestReceiver(WebApplication app) => _app = app;

    public Func<int, HttpContext, Task> Handler { get; set; } = (_, context) => { context.Response.StatusCode = 200; return Task.CompletedTask; };

    public Uri Url { get; private set; } = null!;

    public IReadOnlyList<ReceivedRequest> Requests => [.. _requests.OrderBy(r => r.Number)];

    public int Count => Volatile.Read(ref _count);

    public static async Task<TestReceiver> StartAsync(Func<int, HttpContext, Task>? handler = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new TestReceiver(app);
        if (handler is not null)
        {
            receiver.Handler = handler;
        }

        app.Run(receiver.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.Url = new Uri(address + "/hooks");
        return receiver;
    }

    /// <summary>Waits (bounded) until at least <paramref name="count"/> requests have arrived.</summary>
    public async Task WaitForAsync(int count, TimeSpan? timeout = null)
    {
        var until = Environment.TickCount64 + (long)(timeout ?? TimeSpan.FromSeconds(20)).TotalMilliseconds;
        while (Count < count)
        {
            var left = until - Environment.TickCount64;
            if (left <= 0)
            {
                throw new TimeoutException($"Expected {count} requests, received {Count}.");
            }

            await _arrived.WaitAsync(TimeSpan.FromMilliseconds(Math.Min(left, 200)));
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        var headers = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString());
        var number = Interlocked.Increment(ref _number);
        _requests.Enqueue(new ReceivedRequest(number, context.Request.Path, headers, body.ToArray()));

        // Counted only once recorded: a test that saw Count reach n may read Requests[n - 1].
        Interlocked.Increment(ref _count);
        _arrived.Release();
        await Handler(number, context);
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }
}
