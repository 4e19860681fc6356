using Hookline.Core.Events;
using Hookline.Core.Sandbox.Flows;

namespace Hookline.Core.Sandbox;

/// <summary>
/// Stands in for the payment products in test mode (DESIGN §6): every catalogue event has a flow that creates
/// the entities it needs, walks their state machines and publishes each event of the way, in order.
/// </summary>
internal sealed class SandboxFlows
{
    private readonly Dictionary<string, Action<SandboxRun>> _flows = new(StringComparer.Ordinal);
    private readonly EventCatalog _catalog;
    private readonly SandboxLedger _ledger;
    private readonly Func<ISandboxIds> _ids;

    public SandboxFlows(EventCatalog catalog, SandboxLedger ledger, Func<ISandboxIds>? ids = null)
    {
        _catalog = catalog;
        _ledger = ledger;
        _ids = ids ?? (() => new RandomSandboxIds());
        foreach (var machine in PaymentFlows.Machines().Concat(RefundFlows.Machines()).Concat(DisputeFlows.Machines())
                     .Concat(InvoiceFlows.Machines()).Concat(SubscriptionFlows.Machines()).Concat(TokenFlows.Machines())
                     .Concat(CollectFlows.Machines()).Concat(RouteFlows.Machines()).Concat(AccountFlows.Machines())
                     .Concat(DowntimeFlows.Machines()).Concat(PayoutFlows.Machines()))
        {
            foreach (var name in machine.Events)
            {
                Add(name, run => machine.Run(run, name));
            }
        }

        foreach (var (name, flow) in PaymentFlows.Single().Concat(AccountFlows.Single()).Concat(PayoutFlows.Single()))
        {
            Add(name, flow);
        }
    }

    public bool CanTrigger(string eventName) => _flows.ContainsKey(eventName);

    /// <summary>
    /// Runs the flow of <paramref name="eventName"/> for one account. <paramref name="publish"/> commits the events;
    /// only when it returns true are the flow's entity changes kept, so the sandbox never remembers a state whose
    /// events were not accepted. Triggers of one account run one at a time.
    /// </summary>
    public async Task<T> TriggerAsync<T>(
        string accountId, string eventName, SandboxOptions options, DateTimeOffset now,
        Func<IReadOnlyList<SandboxEvent>, Task<(bool Committed, T Result)>> publish, CancellationToken cancellationToken)
    {
        if (!_flows.TryGetValue(eventName, out var flow))
        {
            throw new SandboxException($"Invalid event name/names: {eventName}", "event");
        }

        var book = _ledger.For(accountId);
        await book.Gate.WaitAsync(cancellationToken);
        try
        {
            var run = new SandboxRun(_catalog, book, _ids(), options, now);
            flow(run);
            options.ThrowIfUnread(eventName);
            var (committed, result) = await publish(run.Events);
            if (committed)
            {
                book.Save(run.Touched);
            }

            return result;
        }
        finally
        {
            book.Gate.Release();
        }
    }

    private void Add(string eventName, Action<SandboxRun> flow)
    {
        if (!_flows.TryAdd(eventName, flow))
        {
            throw new InvalidOperationException($"Two sandbox flows publish {eventName}.");
        }
    }
}
