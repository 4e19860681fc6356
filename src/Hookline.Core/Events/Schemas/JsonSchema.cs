using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Hookline.Core.Events.Schemas;

/// <summary>
/// A compiled JSON Schema for the subset of draft 2020-12 that the catalogue uses: <c>type</c>, <c>enum</c>,
/// <c>const</c>, <c>properties</c>, <c>required</c>, <c>additionalProperties</c>, <c>items</c>, <c>allOf</c>,
/// <c>anyOf</c>, <c>$ref</c>, <c>pattern</c>, <c>minimum</c>. Any other keyword is refused when the schema is
/// compiled, so the catalogue cannot rely on a rule that would silently not be enforced.
/// </summary>
internal sealed class JsonSchema
{
    private static readonly HashSet<string> Annotations = new(StringComparer.Ordinal) { "$schema", "$id", "$comment", "title", "description", "examples", "default" };
    private static readonly TimeSpan PatternTimeout = TimeSpan.FromMilliseconds(250);

    private JsonSchemaTypes _types = JsonSchemaTypes.Any;
    private JsonElement[]? _enum;
    private JsonElement? _const;
    private Dictionary<string, JsonSchema>? _properties;
    private string[] _required = [];
    private bool _additionalForbidden;
    private JsonSchema? _additional;
    private JsonSchema? _items;
    private JsonSchema[] _allOf = [];
    private JsonSchema[] _anyOf = [];
    private Lazy<JsonSchema>? _ref;
    private Regex? _pattern;
    private decimal? _minimum;

    private JsonSchema()
    {
    }

    /// <summary>Accepts every value.</summary>
    public static JsonSchema Anything { get; } = new();

    /// <summary>
    /// Compiles <paramref name="schema"/>. <paramref name="resolve"/> turns a <c>$ref</c> (already made absolute
    /// against <paramref name="baseId"/>) into its schema; it is called on first use, so documents may refer to
    /// each other in any order.
    /// </summary>
    public static JsonSchema Compile(JsonElement schema, string baseId, Func<string, JsonSchema> resolve)
    {
        if (schema.ValueKind == JsonValueKind.True)
        {
            return Anything;
        }

        if (schema.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"{baseId}: a schema must be an object or true.");
        }

        var compiled = new JsonSchema();
        foreach (var keyword in schema.EnumerateObject())
        {
            var value = keyword.Value;
            switch (keyword.Name)
            {
                case "type":
                    compiled._types = JsonSchemaTypesParser.Parse(value, baseId);
                    break;
                case "enum":
                    compiled._enum = [.. value.EnumerateArray().Select(e => e.Clone())];
                    break;
                case "const":
                    compiled._const = value.Clone();
                    break;
                case "properties":
                    compiled._properties = value.EnumerateObject().ToDictionary(p => p.Name, p => Compile(p.Value, baseId, resolve), StringComparer.Ordinal);
                    break;
                case "required":
                    compiled._required = [.. value.EnumerateArray().Select(e => e.GetString()!)];
                    break;
                case "additionalProperties" when value.ValueKind == JsonValueKind.False:
                    compiled._additionalForbidden = true;
                    break;
                case "additionalProperties":
                    compiled._additional = Compile(value, baseId, resolve);
                    break;
                case "items":
                    compiled._items = Compile(value, baseId, resolve);
                    break;
                case "allOf":
                    compiled._allOf = [.. value.EnumerateArray().Select(s => Compile(s, baseId, resolve))];
                    break;
                case "anyOf":
                    compiled._anyOf = [.. value.EnumerateArray().Select(s => Compile(s, baseId, resolve))];
                    break;
                case "$ref":
                    var target = Resolve(baseId, value.GetString()!);
                    compiled._ref = new Lazy<JsonSchema>(() => resolve(target));
                    break;
                case "pattern":
                    compiled._pattern = new Regex(value.GetString()!, RegexOptions.CultureInvariant, PatternTimeout);
                    break;
                case "minimum":
                    compiled._minimum = value.GetDecimal();
                    break;
                default:
                    if (!Annotations.Contains(keyword.Name))
                    {
                        throw new FormatException($"{baseId}: the keyword {keyword.Name} is not supported by Hookline's schema validator.");
                    }

                    break;
            }
        }

        return compiled;
    }

    /// <summary>Makes a <c>$ref</c> absolute against the id of the document it appears in (<c>events/x.json</c> + <c>../entities/y.json</c>).</summary>
    public static string Resolve(string baseId, string reference)
    {
        var root = new Uri("hookline:///");
        return new Uri(new Uri(root, baseId), reference).AbsolutePath.TrimStart('/');
    }

    /// <summary>The first violation in document order, or null when <paramref name="value"/> conforms.</summary>
    public SchemaViolation? Validate(JsonElement value, string path)
    {
        if (_ref?.Value.Validate(value, path) is { } referenced)
        {
            return referenced;
        }

        if (!JsonSchemaTypesParser.Matches(_types, value))
        {
            return new SchemaViolation(path, "must be " + JsonSchemaTypesParser.Describe(_types));
        }

        if (_const is { } constant && !JsonElement.DeepEquals(constant, value))
        {
            return new SchemaViolation(path, "must be " + constant.GetRawText());
        }

        if (_enum is not null && !_enum.Any(e => JsonElement.DeepEquals(e, value)))
        {
            return new SchemaViolation(path, "must be one of " + string.Join(", ", _enum.Select(e => e.GetRawText())));
        }

        var violation = value.ValueKind switch
        {
            JsonValueKind.Object => ValidateObject(value, path),
            JsonValueKind.Array => ValidateItems(value, path),
            JsonValueKind.String when _pattern is not null && !_pattern.IsMatch(value.GetString()!) => new SchemaViolation(path, $"must match {_pattern}"),
            JsonValueKind.Number when _minimum is { } minimum && value.GetDecimal() < minimum => new SchemaViolation(path, "must be at least " + minimum.ToString(CultureInfo.InvariantCulture)),
            _ => null,
        };
        if (violation is not null)
        {
            return violation;
        }

        foreach (var schema in _allOf)
        {
            if (schema.Validate(value, path) is { } failed)
            {
                return failed;
            }
        }

        if (_anyOf.Length == 0)
        {
            return null;
        }

        SchemaViolation? first = null;
        foreach (var schema in _anyOf)
        {
            var failed = schema.Validate(value, path);
            if (failed is null)
            {
                return null;
            }

            first ??= failed;
        }

        return first;
    }

    private SchemaViolation? ValidateObject(JsonElement value, string path)
    {
        foreach (var name in _required)
        {
            if (!value.TryGetProperty(name, out _))
            {
                return new SchemaViolation(Join(path, name), "is required");
            }
        }

        foreach (var property in value.EnumerateObject())
        {
            var childPath = Join(path, property.Name);
            if (_properties is not null && _properties.TryGetValue(property.Name, out var schema))
            {
                if (schema.Validate(property.Value, childPath) is { } failed)
                {
                    return failed;
                }
            }
            else if (_additionalForbidden)
            {
                return new SchemaViolation(childPath, "is not a field of this entity");
            }
            else if (_additional?.Validate(property.Value, childPath) is { } failed)
            {
                return failed;
            }
        }

        return null;
    }

    private SchemaViolation? ValidateItems(JsonElement value, string path)
    {
        if (_items is null)
        {
            return null;
        }

        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (_items.Validate(item, $"{path}[{index}]") is { } failed)
            {
                return failed;
            }

            index++;
        }

        return null;
    }

    private static string Join(string path, string name) => path.Length == 0 ? name : path + "." + name;
}

/// <summary>Where a value breaks its schema (<c>payload.payment.entity.amount</c>) and how.</summary>
internal sealed record SchemaViolation(string Path, string Problem)
{
    public override string ToString() => $"{Path} {Problem}";
}
