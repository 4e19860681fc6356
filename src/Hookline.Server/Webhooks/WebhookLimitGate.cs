namespace Hookline.Server.Webhooks;

/// <summary>
/// Serialises "count the webhooks, then create one", so that parallel requests cannot all pass the
/// per-product limit together. It covers one process: the store ports take no limit, so API nodes scaled out
/// over PostgreSQL need the count moved into the store's insert transaction.
/// </summary>
internal sealed class WebhookLimitGate : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public async Task RunAsync(Func<Task> work, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await work();
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();
}
