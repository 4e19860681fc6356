using System.Text.Json;

namespace Hookline.Core.Events;

/// <summary>
/// The payload of a test fire: the catalogue's sample of the event (<c>catalog/samples/</c>), which is what the
/// sandbox publishes for it and satisfies the event's schema.
/// </summary>
internal static class SamplePayloads
{
    public static JsonElement For(EventType type)
        => type.Sample.ValueKind == JsonValueKind.Object
            ? type.Sample
            : throw new InvalidOperationException($"The catalogue has no sample for {type.Name}.");
}
