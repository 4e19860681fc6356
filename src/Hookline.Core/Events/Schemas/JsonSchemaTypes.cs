using System.Text.Json;

namespace Hookline.Core.Events.Schemas;

/// <summary>The JSON Schema <c>type</c> keyword as flags; <see cref="Integer"/> is a number without a fraction.</summary>
[Flags]
internal enum JsonSchemaTypes
{
    None = 0,
    Null = 1,
    Boolean = 2,
    Integer = 4,
    Number = 8,
    String = 16,
    Array = 32,
    Object = 64,
    Any = Null | Boolean | Integer | Number | String | Array | Object,
}

internal static class JsonSchemaTypesParser
{
    private static readonly (JsonSchemaTypes Type, string Name, string Phrase)[] Names =
    [
        (JsonSchemaTypes.Null, "null", "null"),
        (JsonSchemaTypes.Boolean, "boolean", "true or false"),
        (JsonSchemaTypes.Integer, "integer", "an integer"),
        (JsonSchemaTypes.Number, "number", "a number"),
        (JsonSchemaTypes.String, "string", "a string"),
        (JsonSchemaTypes.Array, "array", "an array"),
        (JsonSchemaTypes.Object, "object", "an object"),
    ];

    public static JsonSchemaTypes Parse(JsonElement value, string schemaId)
    {
        var names = value.ValueKind == JsonValueKind.Array ? value.EnumerateArray().Select(e => e.GetString()) : [value.GetString()];
        var types = JsonSchemaTypes.None;
        foreach (var name in names)
        {
            var match = Array.Find(Names, n => n.Name == name);
            types |= match.Name is null ? throw new FormatException($"{schemaId}: unknown type {name}.") : match.Type;
        }

        return types;
    }

    public static bool Matches(JsonSchemaTypes types, JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null => types.HasFlag(JsonSchemaTypes.Null),
        JsonValueKind.True or JsonValueKind.False => types.HasFlag(JsonSchemaTypes.Boolean),
        JsonValueKind.String => types.HasFlag(JsonSchemaTypes.String),
        JsonValueKind.Array => types.HasFlag(JsonSchemaTypes.Array),
        JsonValueKind.Object => types.HasFlag(JsonSchemaTypes.Object),
        JsonValueKind.Number => types.HasFlag(JsonSchemaTypes.Number) || (types.HasFlag(JsonSchemaTypes.Integer) && IsInteger(value)),
        _ => false,
    };

    public static bool IsInteger(JsonElement number)
        => number.TryGetInt64(out _) || (number.TryGetDecimal(out var d) && d == decimal.Truncate(d));

    public static string Describe(JsonSchemaTypes types)
        => string.Join(" or ", Names.Where(n => types.HasFlag(n.Type)).Select(n => n.Phrase));
}
