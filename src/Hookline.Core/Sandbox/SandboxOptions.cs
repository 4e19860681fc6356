using System.Globalization;
using System.Text.Json;

namespace Hookline.Core.Sandbox;

/// <summary>A request the sandbox refuses: an unknown option, a bad value, an entity in the wrong state.</summary>
internal sealed class SandboxException(string message, string? field = null) : Exception(message)
{
    public string? Field { get; } = field;
}

/// <summary>
/// The options of one trigger (every field of the request besides <c>event</c>). Values may be JSON strings or
/// numbers, so the CLI's <c>--option amount=100</c> works as well as <c>"amount": 100</c>. Each flow reads what it
/// understands; an option nobody read is refused, so a typo never passes silently.
/// </summary>
internal sealed class SandboxOptions
{
    private readonly Dictionary<string, JsonElement> _values;
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public SandboxOptions(IReadOnlyDictionary<string, JsonElement>? values = null)
        => _values = values is null ? new(StringComparer.Ordinal) : new(values, StringComparer.Ordinal);

    public string? Text(string name, int maxLength = 64)
    {
        if (!TryRead(name, out var value))
        {
            return null;
        }

        var text = value.ValueKind switch
        {
            JsonValueKind.String => value.GetString()!,
            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
            _ => throw new SandboxException($"The option {name} must be a string.", name),
        };
        return text.Length is > 0 && text.Length <= maxLength && !text.Any(char.IsControl)
            ? text
            : throw new SandboxException($"The option {name} must be 1 to {maxLength} printable characters.", name);
    }

    public string? OneOf(string name, params string[] allowed)
    {
        var text = Text(name);
        return text is null || allowed.Contains(text, StringComparer.Ordinal)
            ? text
            : throw new SandboxException($"The option {name} must be one of {string.Join(", ", allowed)}.", name);
    }

    public long? Integer(string name, long min = 1, long max = 100_000_000_000)
    {
        if (!TryRead(name, out var value))
        {
            return null;
        }

        long number = 0;
        var ok = value.ValueKind == JsonValueKind.Number
            ? value.TryGetInt64(out number)
            : value.ValueKind == JsonValueKind.String && long.TryParse(value.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out number);
        return ok && number >= min && number <= max
            ? number
            : throw new SandboxException($"The option {name} must be an integer from {min} to {max}.", name);
    }

    /// <summary>Refuses options that no step of the flow read.</summary>
    public void ThrowIfUnread(string eventName)
    {
        var unread = _values.Keys.Where(k => !_read.Contains(k)).Order(StringComparer.Ordinal).ToList();
        if (unread.Count > 0)
        {
            throw new SandboxException($"{unread[0]} is not an option of the {eventName} flow.", unread[0]);
        }
    }

    private bool TryRead(string name, out JsonElement value)
    {
        _read.Add(name);
        return _values.TryGetValue(name, out value) && value.ValueKind != JsonValueKind.Null;
    }
}
