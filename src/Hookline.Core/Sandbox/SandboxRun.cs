using System.Text.Json.Nodes;
using Hookline.Core.Events;

namespace Hookline.Core.Sandbox;

/// <summary>One event the sandbox publishes: its type, its payload and the ids of the entities in it, by kind.</summary>
internal sealed record SandboxEvent(EventType Type, JsonObject Payload, IReadOnlyDictionary<string, string> EntityIds);

/// <summary>
/// One trigger in progress: the entities it created or touched (copies, committed only if the events are),
/// the events it published in order, and a clock that moves a few seconds per step so snapshots read as a story.
/// </summary>
internal sealed class SandboxRun
{
    private readonly EventCatalog _catalog;
    private readonly SandboxBook _book;
    private readonly ISandboxIds _ids;
    private readonly Dictionary<string, SandboxEntity> _working = new(StringComparer.Ordinal);
    private readonly List<SandboxEvent> _events = [];

    public SandboxRun(EventCatalog catalog, SandboxBook book, ISandboxIds ids, SandboxOptions options, DateTimeOffset now)
    {
        _catalog = catalog;
        _book = book;
        _ids = ids;
        Options = options;
        Now = now.ToUnixTimeSeconds();
        At = Now - 60;
    }

    public SandboxOptions Options { get; }

    /// <summary>When the trigger happened (Unix seconds); events are created at this moment.</summary>
    public long Now { get; }

    /// <summary>The flow's clock: starts a minute before <see cref="Now"/> and advances by <see cref="Step"/>.</summary>
    public long At { get; private set; }

    public IReadOnlyList<SandboxEvent> Events => _events;

    public IEnumerable<SandboxEntity> Touched => _working.Values;

    public void Step(int seconds = 3) => At = Math.Min(At + seconds, Now);

    public string NewId(string prefix) => _ids.New(prefix);

    /// <summary>A new entity from its template, with a fresh id and <c>created_at</c> now (when the template has one).</summary>
    public SandboxEntity Create(string template, string kind, string idPrefix, string state = "created")
    {
        var body = SandboxTemplates.Create(template);
        body["id"] = NewId(idPrefix);
        if (body.ContainsKey("created_at"))
        {
            body["created_at"] = At;
        }

        var entity = new SandboxEntity(kind, state, body, new JsonObject());
        _working[entity.Id] = entity;
        return entity;
    }

    /// <summary>The entity named by the option <paramref name="option"/>, or null when the option is absent.</summary>
    public SandboxEntity? FromOption(string option, string kind)
    {
        var id = Options.Text(option);
        if (id is null)
        {
            return null;
        }

        return Find(id, kind)
            ?? throw new SandboxException($"There is no sandbox {kind} {id} in this account. Sandbox entities live in memory: they are gone after the server restarts.", option);
    }

    /// <summary>An entity this run or an earlier trigger made; changes to it are committed with this run's events.</summary>
    public SandboxEntity? Find(string id, string kind)
    {
        if (!_working.TryGetValue(id, out var entity))
        {
            entity = _book.Find(id);
            if (entity is null)
            {
                return null;
            }

            _working[id] = entity;
        }

        return entity.Kind == kind ? entity : null;
    }

    public SandboxEntity Get(string id, string kind)
        => Find(id, kind) ?? throw new InvalidOperationException($"The sandbox lost {kind} {id}.");

    /// <summary>
    /// Publishes <paramref name="eventName"/> with a snapshot of each entity, under its kind, in the order of the
    /// catalogue's <c>contains</c>. The payload must satisfy the event's schema: a failure is a sandbox bug.
    /// </summary>
    public void Publish(string eventName, params SandboxEntity[] entities)
    {
        var type = Type(eventName);
        var payload = new JsonObject();
        foreach (var entity in entities.OrderBy(e => IndexIn(type.Contains, e.Kind)))
        {
            payload[entity.Kind] = new JsonObject { ["entity"] = entity.Body.DeepClone() };
        }

        Add(type, payload, entities.ToDictionary(e => e.Kind, e => e.Id, StringComparer.Ordinal));
    }

    /// <summary>Publishes a payload that is not made of entity snapshots (the GMV warnings, banking account numbers).</summary>
    public void PublishPayload(string eventName, JsonObject payload, IReadOnlyDictionary<string, string>? entityIds = null)
        => Add(Type(eventName), payload, entityIds ?? new Dictionary<string, string>());

    private EventType Type(string eventName)
        => _catalog.Find(eventName) ?? throw new InvalidOperationException($"The sandbox publishes {eventName}, which is not in the catalogue.");

    private void Add(EventType type, JsonObject payload, IReadOnlyDictionary<string, string> entityIds)
    {
        var element = System.Text.Json.JsonSerializer.SerializeToElement(payload);
        if (type.Validate(element) is { } violation)
        {
            throw new InvalidOperationException($"The sandbox built a {type.Name} payload that breaks its schema: {violation}");
        }

        _events.Add(new SandboxEvent(type, payload, entityIds));
    }

    private static int IndexIn(IReadOnlyList<string> contains, string kind)
    {
        for (var i = 0; i < contains.Count; i++)
        {
            if (contains[i] == kind)
            {
                return i;
            }
        }

        return contains.Count;
    }
}
