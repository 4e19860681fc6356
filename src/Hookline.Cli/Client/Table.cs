using System.Globalization;
using System.Text.Json;

namespace Hookline.Cli.Client;

/// <summary>Plain text output: aligned columns and "key: value" details, timestamps in UTC.</summary>
internal static class Table
{
    public static void Write(TextWriter output, string[] headers, IEnumerable<string[]> rows)
    {
        var all = rows.ToList();
        var widths = headers.Select((h, i) => all.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        output.WriteLine(Line(headers, widths));
        foreach (var row in all)
        {
            output.WriteLine(Line(row, widths));
        }
    }

    public static void Details(TextWriter output, IEnumerable<(string Key, string Value)> fields)
    {
        var list = fields.ToList();
        var width = list.Max(f => f.Key.Length);
        foreach (var (key, value) in list)
        {
            output.WriteLine($"{(key + ":").PadRight(width + 1)} {value}");
        }
    }

    /// <summary>A field of <paramref name="json"/> as text: strings bare, arrays comma-joined, times as UTC, null as "-".</summary>
    public static string Text(JsonElement json, string name)
    {
        if (!json.TryGetProperty(name, out var value))
        {
            return "-";
        }

        return value.ValueKind switch
        {
            JsonValueKind.Null => "-",
            JsonValueKind.String => value.GetString()!,
            JsonValueKind.Array => string.Join(",", value.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText())),
            JsonValueKind.True => "yes",
            JsonValueKind.False => "no",
            JsonValueKind.Number when name.EndsWith("_at", StringComparison.Ordinal) || name == "failing_since" => Time(value.GetInt64()),
            _ => value.GetRawText(),
        };
    }

    public static string Time(long seconds) => DateTimeOffset.FromUnixTimeSeconds(seconds).ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static IEnumerable<JsonElement> Items(JsonElement collection) => collection.GetProperty("items").EnumerateArray();

    private static string Line(string[] cells, int[] widths)
        => string.Join("  ", cells.Select((c, i) => i == cells.Length - 1 ? c : c.PadRight(widths[i]))).TrimEnd();
}
