using System.Collections.Frozen;

namespace Hookline.Core.Events;

internal sealed record EventType(string Name, string Product, string Group);

/// <summary>The event catalogue (<c>catalog/events.tsv</c>, embedded): which names exist and their product.</summary>
internal sealed class EventCatalog
{
    private readonly FrozenDictionary<string, EventType> _types;

    private EventCatalog(IEnumerable<EventType> types) => _types = types.ToFrozenDictionary(t => t.Name, StringComparer.Ordinal);

    public static EventCatalog Default { get; } = LoadEmbedded();

    public IEnumerable<EventType> All => _types.Values.OrderBy(t => t.Name, StringComparer.Ordinal);

    public EventType? Find(string name) => _types.GetValueOrDefault(name);

    private static EventCatalog LoadEmbedded()
    {
        using var stream = typeof(EventCatalog).Assembly.GetManifestResourceStream("Hookline.Core.catalog.events.tsv")
            ?? throw new InvalidOperationException("The event catalogue is not embedded in Hookline.Core.");
        using var reader = new StreamReader(stream);
        var types = new List<EventType>();
        _ = reader.ReadLine();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }

            var cells = line.Split('\t');
            types.Add(new EventType(cells[0], cells[1], cells[2]));
        }

        return new EventCatalog(types);
    }
}
