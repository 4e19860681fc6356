using System.Text.Json;

namespace Hookline.Tests.Catalog;

/// <summary>
/// Razorpay's entities as the reference data records them (<c>testdata/catalog/razorpay-entities.tsv</c>): the
/// fields each entity has, the JSON types seen for each, and whether every Razorpay sample carries it. An
/// oracle independent of Hookline's own schemas: a payload we emit must use only those fields, with those
/// types, and carry the required ones.
/// </summary>
internal sealed class RazorpayEntities
{
    private readonly Dictionary<string, Dictionary<string, (string[] Types, bool Required)>> _entities;

    private RazorpayEntities(Dictionary<string, Dictionary<string, (string[] Types, bool Required)>> entities) => _entities = entities;

    public static RazorpayEntities Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "testdata", "catalog", "razorpay-entities.tsv");
        var entities = new Dictionary<string, Dictionary<string, (string[], bool)>>(StringComparer.Ordinal);
        foreach (var line in File.ReadAllLines(path).Skip(1).Where(l => l.Length > 0))
        {
            var cells = line.Split('\t');
            if (!entities.TryGetValue(cells[0], out var fields))
            {
                entities[cells[0]] = fields = new(StringComparer.Ordinal);
            }

            fields[cells[1]] = (cells[2].Split(','), cells[3] == "yes");
        }

        return new RazorpayEntities(entities);
    }

    public bool Knows(string entity) => _entities.ContainsKey(entity);

    /// <summary>
    /// Every disagreement between <paramref name="payload"/> and the reference entities. Keys of the payload that
    /// are not entities at all (the GMV warnings' <c>acc_id</c>, <c>gmv_limit</c>, …) are added to <paramref name="notEntities"/>.
    /// </summary>
    public List<string> Check(JsonElement payload, ICollection<string>? notEntities = null)
    {
        var problems = new List<string>();
        foreach (var property in payload.EnumerateObject())
        {
            var path = "payload." + property.Name;
            if (property.Value.ValueKind == JsonValueKind.Object && property.Value.TryGetProperty("entity", out var entity))
            {
                foreach (var sibling in property.Value.EnumerateObject().Where(p => p.Name != "entity"))
                {
                    problems.Add($"{path}.{sibling.Name}: only \"entity\" belongs beside the snapshot");
                }

                CheckEntity(property.Name, entity, path + ".entity", problems);
            }
            else if (Knows(property.Name))
            {
                CheckEntity(property.Name, property.Value, path, problems);
            }
            else
            {
                notEntities?.Add(property.Name);
            }
        }

        return problems;
    }

    private void CheckEntity(string name, JsonElement entity, string path, List<string> problems)
    {
        if (!_entities.TryGetValue(name, out var fields))
        {
            problems.Add($"{path}: Razorpay has no entity {name}");
            return;
        }

        if (entity.ValueKind != JsonValueKind.Object)
        {
            problems.Add($"{path}: must be an object");
            return;
        }

        foreach (var field in entity.EnumerateObject())
        {
            if (!fields.TryGetValue(field.Name, out var reference))
            {
                problems.Add($"{path}.{field.Name}: Razorpay's {name} has no such field");
            }
            else if (!reference.Types.Contains(Kind(field.Value)))
            {
                problems.Add($"{path}.{field.Name}: is {Kind(field.Value)}, Razorpay's is {string.Join(" or ", reference.Types)}");
            }
        }

        foreach (var (field, reference) in fields)
        {
            if (reference.Required && !entity.TryGetProperty(field, out _))
            {
                problems.Add($"{path}.{field}: missing; every Razorpay {name} has it");
            }
        }
    }

    private static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null => "null",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        JsonValueKind.String => "string",
        JsonValueKind.Array => "array",
        JsonValueKind.Object => "object",
        JsonValueKind.Number => value.TryGetInt64(out _) ? "integer" : "number",
        _ => value.ValueKind.ToString(),
    };
}
