using System.Text.Json.Nodes;

namespace Hookline.Core.Sandbox;

/// <summary>
/// One sandbox object: its <see cref="Kind"/> (the payload key it appears under, <c>payment</c>), the state
/// its machine is in, the body that events snapshot, and <see cref="Facts"/> the sandbox keeps about it that
/// Razorpay's entity has no field for (a subscription's amount per cycle, the order a payment link created).
/// </summary>
internal sealed class SandboxEntity(string kind, string state, JsonObject body, JsonObject facts)
{
    public string Kind { get; } = kind;

    public string State { get; set; } = state;

    public JsonObject Body { get; } = body;

    public JsonObject Facts { get; } = facts;

    public string Id => Body.Text("id");

    public SandboxEntity Clone() => new(Kind, State, (JsonObject)Body.DeepClone(), (JsonObject)Facts.DeepClone());
}

/// <summary>Reads of the few shapes the sandbox stores; a missing or mistyped field is a sandbox bug.</summary>
internal static class JsonObjectFields
{
    public static string Text(this JsonObject obj, string name)
        => obj[name]?.GetValue<string>() ?? throw new InvalidOperationException($"The sandbox entity has no string {name}.");

    public static string? TextOrNull(this JsonObject obj, string name) => obj[name]?.GetValue<string>();

    public static long Number(this JsonObject obj, string name)
    {
        // Values set from C# keep their CLR type (an int literal stays an int); values parsed from a template are JSON.
        var value = obj[name] as JsonValue ?? throw new InvalidOperationException($"The sandbox entity has no number {name}.");
        return value.TryGetValue<long>(out var number) ? number
            : value.TryGetValue<int>(out var small) ? small
            : throw new InvalidOperationException($"The sandbox entity's {name} is not an integer.");
    }

    public static JsonObject Child(this JsonObject obj, string name)
        => obj[name] as JsonObject ?? throw new InvalidOperationException($"The sandbox entity has no object {name}.");
}
