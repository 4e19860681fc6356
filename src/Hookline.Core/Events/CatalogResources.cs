using System.Reflection;

namespace Hookline.Core.Events;

/// <summary>
/// The files of <c>catalog/</c>, embedded in this assembly under <c>Hookline.Core.catalog/&lt;relative path&gt;</c>
/// (see Hookline.Core.csproj), so the catalogue ships inside the binary and cannot drift from it.
/// </summary>
internal static class CatalogResources
{
    private const string Prefix = "Hookline.Core.catalog/";
    private static readonly Assembly Assembly = typeof(CatalogResources).Assembly;

    /// <summary>Relative paths (<c>schemas/events/order.paid.json</c>) of the embedded files under <paramref name="folder"/>.</summary>
    public static IEnumerable<string> List(string folder)
        => Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(Prefix + folder, StringComparison.Ordinal))
            .Select(n => n[Prefix.Length..])
            .Order(StringComparer.Ordinal);

    public static Stream? Open(string path) => Assembly.GetManifestResourceStream(Prefix + path);

    public static byte[] Read(string path)
    {
        using var stream = Open(path) ?? throw new InvalidOperationException($"catalog/{path} is not embedded in Hookline.Core.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
