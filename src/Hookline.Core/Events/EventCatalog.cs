using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hookline.Core.Events.Schemas;

namespace Hookline.Core.Events;

/// <summary>
/// One catalogue entry. <see cref="Contains"/> lists the payload's keys in the order they appear;
/// <see cref="Schema"/> validates a payload; <see cref="Sample"/> is a payload that satisfies it.
/// </summary>
internal sealed record EventType(string Name, string Product, string Group)
{
    public IReadOnlyList<string> Contains { get; init; } = [];

    public string Description { get; init; } = "";

    public JsonSchema Schema { get; init; } = JsonSchema.Anything;

    /// <summary>Undefined when the catalogue has no sample for this event (a test refuses that).</summary>
    public JsonElement Sample { get; init; }

    /// <summary>The first place where <paramref name="payload"/> breaks this event's schema, with paths from <c>payload</c>.</summary>
    public SchemaViolation? Validate(JsonElement payload, string prefix = "") => Schema.Validate(payload, prefix + "payload");
}

/// <summary>
/// The event catalogue, embedded from <c>catalog/</c>: <c>events.tsv</c> (name, product, group, contains,
/// description), a JSON Schema per event under <c>schemas/events/</c> that refers to the entity schemas under
/// <c>schemas/entities/</c>, and a sample payload per event under <c>samples/</c>.
/// </summary>
internal sealed class EventCatalog
{
    private readonly FrozenDictionary<string, EventType> _types;
    private readonly FrozenDictionary<string, JsonElement> _schemaDocuments;

    private EventCatalog(IEnumerable<EventType> types, FrozenDictionary<string, JsonElement> schemaDocuments)
    {
        _types = types.ToFrozenDictionary(t => t.Name, StringComparer.Ordinal);
        _schemaDocuments = schemaDocuments;
    }

    public static EventCatalog Default { get; } = LoadEmbedded();

    public IEnumerable<EventType> All => _types.Values.OrderBy(t => t.Name, StringComparer.Ordinal);

    public EventType? Find(string name) => _types.GetValueOrDefault(name);

    /// <summary>
    /// The event's schema as one self-contained document: every <c>$ref</c> to an entity schema is replaced by
    /// that schema, so clients need not fetch anything else.
    /// </summary>
    public JsonObject BundledSchema(EventType type)
    {
        var id = EventSchemaId(type.Name);
        var bundled = JsonNode.Parse(_schemaDocuments[id].GetRawText())!.AsObject();
        Inline(bundled, id);
        return bundled;
    }

    private void Inline(JsonNode node, string baseId)
    {
        switch (node)
        {
            case JsonObject obj:
                if (obj["$ref"]?.GetValue<string>() is { } reference)
                {
                    var target = JsonSchema.Resolve(baseId, reference);
                    obj.Remove("$ref");
                    var inlined = JsonNode.Parse(_schemaDocuments[target].GetRawText())!.AsObject();
                    inlined.Remove("$schema");
                    inlined.Remove("$id");
                    Inline(inlined, target);
                    foreach (var (key, value) in inlined.ToList())
                    {
                        inlined.Remove(key);
                        obj[key] = value;
                    }
                }

                foreach (var (_, value) in obj.ToList())
                {
                    if (value is not null)
                    {
                        Inline(value, baseId);
                    }
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    if (item is not null)
                    {
                        Inline(item, baseId);
                    }
                }

                break;
        }
    }

    private static string EventSchemaId(string name) => $"events/{name}.json";

    private static JsonElement ReadSample(string name)
    {
        using var stream = CatalogResources.Open($"samples/{name}.json");
        return stream is null ? default : JsonDocument.Parse(stream).RootElement.Clone();
    }

    private static EventCatalog LoadEmbedded()
    {
        var documents = CatalogResources.List("schemas/")
            .ToFrozenDictionary(path => path["schemas/".Length..], path => JsonDocument.Parse(CatalogResources.Read(path)).RootElement.Clone(), StringComparer.Ordinal);
        var compiled = new Dictionary<string, JsonSchema>(StringComparer.Ordinal);
        JsonSchema Resolve(string id)
        {
            lock (compiled)
            {
                if (!compiled.TryGetValue(id, out var schema))
                {
                    schema = JsonSchema.Compile(
                        documents.TryGetValue(id, out var document) ? document : throw new InvalidOperationException($"catalog/schemas/{id} is referenced but missing."),
                        id,
                        Resolve);
                    compiled[id] = schema;
                }

                return schema;
            }
        }

        using var reader = new StreamReader(new MemoryStream(CatalogResources.Read("events.tsv")));
        var types = new List<EventType>();
        _ = reader.ReadLine();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }

            var cells = line.Split('\t');
            var name = cells[0];
            types.Add(new EventType(name, cells[1], cells[2])
            {
                Contains = cells.Length > 3 ? cells[3].Split(',', StringSplitOptions.RemoveEmptyEntries) : [],
                Description = cells.Length > 4 ? cells[4] : "",
                Schema = documents.ContainsKey(EventSchemaId(name)) ? Resolve(EventSchemaId(name)) : JsonSchema.Anything,
                Sample = ReadSample(name),
            });
        }

        return new EventCatalog(types, documents);
    }
}
