using System.Text;
using System.Text.Json;

namespace Hookline.Receiver.Tests;

/// <summary>
/// Reads testdata/signatures/vectors.json, whose expected values generate.py computes in Python, independently
/// of the code under test.
/// </summary>
internal static class SignatureVectors
{
    public static TheoryData<string> Names(string section)
    {
        var names = new TheoryData<string>();
        foreach (var vector in Section(section).EnumerateArray())
        {
            names.Add(vector.GetProperty("name").GetString()!);
        }

        return names;
    }

    public static JsonElement Find(string section, string name)
    {
        foreach (var vector in Section(section).EnumerateArray())
        {
            if (vector.GetProperty("name").GetString() == name)
            {
                return vector;
            }
        }

        throw new KeyNotFoundException($"No vector \"{name}\" in \"{section}\".");
    }

    public static byte[] Body(JsonElement vector)
    {
        if (vector.TryGetProperty("body_utf8", out var text))
        {
            return Encoding.UTF8.GetBytes(text.GetString()!);
        }

        if (vector.TryGetProperty("body_base64", out var base64))
        {
            return Convert.FromBase64String(base64.GetString()!);
        }

        var repeat = vector.GetProperty("body_repeat");
        var unit = Encoding.UTF8.GetBytes(repeat.GetProperty("text").GetString()!);
        var count = repeat.GetProperty("count").GetInt32();
        var body = new byte[unit.Length * count];
        for (var i = 0; i < count; i++)
        {
            unit.CopyTo(body, i * unit.Length);
        }

        return body;
    }

    public static string[] Secrets(JsonElement vector)
        => [.. vector.GetProperty("secrets").EnumerateArray().Select(s => s.GetString()!)];

    public static string? OptionalString(JsonElement vector, string name)
        => vector.GetProperty(name).ValueKind == JsonValueKind.Null ? null : vector.GetProperty(name).GetString();

    private static JsonElement Section(string section)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "testdata", "signatures", "vectors.json");
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        return document.RootElement.GetProperty(section).Clone();
    }
}
