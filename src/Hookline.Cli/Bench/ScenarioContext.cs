namespace Hookline.Cli.Bench;

/// <summary>What every scenario of one store gets: the store, the sink, the options, where to print, the report so far.</summary>
internal sealed record ScenarioContext(BenchStore Store, Sink Sink, BenchOptions Options, TextWriter Output, StoreReport Report, CancellationToken CancellationToken)
{
    public string Label(string scenario) => $"{scenario} {Store.Name}";

    /// <summary>A fresh store instance and an in-process Hookline on it.</summary>
    public async Task<(StoreInstance Instance, HooklineInProcess Hookline)> StartInProcessAsync(IReadOnlyDictionary<string, string>? extra = null)
    {
        var instance = await Store.NewInstanceAsync(CancellationToken);
        try
        {
            return (instance, await HooklineInProcess.StartAsync(instance, Options, extra, Output));
        }
        catch
        {
            await instance.DisposeAsync();
            throw;
        }
    }

    /// <summary>Creates an account and its webhooks (a few at a time); returns the account id.</summary>
    public async Task<string> AccountWithWebhooksAsync(IHookline hookline, IReadOnlyList<string> urls)
    {
        using var platform = new PlatformClient(hookline.BaseAddress);
        var (accountId, merchant) = await platform.CreateAccountAsync(CancellationToken);
        using (merchant)
        {
            using var gate = new SemaphoreSlim(8);
            await Task.WhenAll(urls.Select(async url =>
            {
                await gate.WaitAsync(CancellationToken);
                try
                {
                    await PlatformClient.CreateWebhookAsync(merchant, url, CancellationToken);
                }
                finally
                {
                    gate.Release();
                }
            }));
        }

        return accountId;
    }
}
