using System.Collections.Concurrent;

namespace Hookline.Core.Sandbox;

/// <summary>
/// Sandbox entities, per account, in memory. The sandbox stands in for a payments product in test mode: its
/// entities only have to live long enough to be acted on again ("refund this payment"), so they are not stored
/// and are gone after a restart; the events they produced are stored like any other. Each account keeps at most
/// <see cref="MaxEntitiesPerAccount"/>, oldest dropped first.
/// </summary>
internal sealed class SandboxLedger
{
    public const int MaxEntitiesPerAccount = 10_000;

    private readonly ConcurrentDictionary<string, SandboxBook> _books = new(StringComparer.Ordinal);

    public SandboxBook For(string accountId) => _books.GetOrAdd(accountId, _ => new SandboxBook());
}

/// <summary>One account's sandbox entities. <see cref="Gate"/> serialises triggers, so a flow sees a stable state.</summary>
internal sealed class SandboxBook
{
    private readonly Dictionary<string, SandboxEntity> _entities = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();
    private readonly Lock _lock = new();

    public SemaphoreSlim Gate { get; } = new(1, 1);

    /// <summary>A copy of the entity, so a flow that fails half-way leaves the stored one untouched.</summary>
    public SandboxEntity? Find(string id)
    {
        lock (_lock)
        {
            return _entities.TryGetValue(id, out var entity) ? entity.Clone() : null;
        }
    }

    public void Save(IEnumerable<SandboxEntity> entities)
    {
        lock (_lock)
        {
            foreach (var entity in entities)
            {
                if (!_entities.ContainsKey(entity.Id))
                {
                    _order.Enqueue(entity.Id);
                }

                _entities[entity.Id] = entity;
            }

            while (_entities.Count > SandboxLedger.MaxEntitiesPerAccount && _order.TryDequeue(out var oldest))
            {
                _entities.Remove(oldest);
            }
        }
    }
}
