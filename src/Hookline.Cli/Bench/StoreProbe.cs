using Hookline.Core.Delivery;
using Hookline.Core.Storage;
using Hookline.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Hookline.Cli.Bench;

/// <summary>
/// Reads a child process's results from its store, through the same storage port Hookline uses (so it works for
/// either provider): the application is built, never started.
/// </summary>
internal sealed class StoreProbe : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly IDeliveryStore _store;

    private StoreProbe(WebApplication app)
    {
        _app = app;
        _store = app.Services.GetRequiredService<IDeliveryStore>();
    }

    public static StoreProbe Open(StoreInstance instance, BenchOptions options)
        => new(HooklineServer.Build([.. HooklineSettings.For(instance, options).Select(kv => $"--{kv.Key}={kv.Value}")]));

    public async Task<long> SucceededAsync(CancellationToken cancellationToken)
        => (await _store.CountDeliveriesAsync(cancellationToken)).GetValueOrDefault(DeliveryStatus.Succeeded);

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
