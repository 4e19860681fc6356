using System.Collections.Frozen;
using System.Text.Json.Nodes;
using Hookline.Core.Events;

namespace Hookline.Core.Sandbox;

/// <summary>
/// The starting body of each sandbox entity (<c>catalog/sandbox/*.json</c>): every field Hookline emits for
/// it, in Razorpay's order, with neutral values that the flows then fill in.
/// </summary>
internal static class SandboxTemplates
{
    private const string Folder = "sandbox/";

    private static readonly FrozenDictionary<string, JsonObject> Templates = CatalogResources.List(Folder)
        .ToFrozenDictionary(
            path => path[Folder.Length..^".json".Length],
            path => JsonNode.Parse(CatalogResources.Read(path))!.AsObject(),
            StringComparer.Ordinal);

    public static IEnumerable<string> Names => Templates.Keys;

    public static JsonObject Create(string name)
        => (JsonObject)(Templates.TryGetValue(name, out var template) ? template : throw new InvalidOperationException($"No sandbox template {name}.")).DeepClone();
}
