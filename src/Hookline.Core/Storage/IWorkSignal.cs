namespace Hookline.Core.Storage;

/// <summary>
/// Wake-ups from other processes: a store shared by several processes tells each worker when another one
/// (an API-only node, a replay) has committed deliveries that are due now, so they go out promptly rather
/// than at the next poll. Polling stays the safety net; a signal may be lost, late or spurious.
/// </summary>
internal interface IWorkSignal
{
    /// <summary>Calls <paramref name="onWork"/> (on any thread, possibly often) until the result is disposed.</summary>
    IDisposable Subscribe(Action onWork);
}

/// <summary>For a store only one process uses (SQLite): that process already hands its fresh work over in memory.</summary>
internal sealed class NoWorkSignal : IWorkSignal
{
    public static readonly NoWorkSignal Instance = new();

    private NoWorkSignal()
    {
    }

    public IDisposable Subscribe(Action onWork) => Subscription.None;

    private sealed class Subscription : IDisposable
    {
        public static readonly Subscription None = new();

        public void Dispose()
        {
        }
    }
}
