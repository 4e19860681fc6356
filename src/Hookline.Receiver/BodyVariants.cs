using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Hookline.Receiver;

/// <summary>
/// Other byte forms of the same body that a signature may have been computed over: the body as a receiver
/// holds it is often not the bytes that were sent, because a framework parsed the JSON and wrote it out again
/// (different spaces, indentation, escapes) or an editor touched the line endings. Each form is paired with a
/// description for a person.
/// </summary>
internal static class BodyVariants
{
    private enum Spacing
    {
        Minified,
        PythonDefault,
        TwoSpaces,
        FourSpaces,
    }

    private enum Escaping
    {
        None,
        NonAscii,
        NonAsciiAndSlash,
    }

    /// <summary>The variants of <paramref name="body"/>, each different from it and from one another.</summary>
    public static IReadOnlyList<(string Description, byte[] Bytes)> Of(byte[] body)
    {
        var seen = new List<byte[]> { body };
        var variants = new List<(string, byte[])>();
        void Add(string description, byte[] bytes)
        {
            if (!seen.Exists(b => b.AsSpan().SequenceEqual(bytes)))
            {
                seen.Add(bytes);
                variants.Add((description, bytes));
            }
        }

        foreach (var (description, bytes) in RawEdits(body))
        {
            Add(description, bytes);
        }

        foreach (var (description, bytes) in JsonForms(body))
        {
            Add(description, bytes);
            Add(description + ", with a final newline", [.. bytes, (byte)'\n']);
        }

        return variants;
    }

    /// <summary>Tells whether the body parses as JSON, so that its re-serialisations could be tried.</summary>
    public static bool IsJson(byte[] body) => TryParse(body, out _);

    private static List<(string, byte[])> RawEdits(byte[] body)
    {
        var edits = new List<(string, byte[])>();
        var text = body.AsSpan();
        ReadOnlySpan<byte> bom = [0xEF, 0xBB, 0xBF];
        if (text.StartsWith(bom))
        {
            edits.Add(("without the UTF-8 byte order mark at its start", body[bom.Length..]));
        }

        var trimmedEnd = text.TrimEnd("\r\n"u8);
        edits.Add(trimmedEnd.Length != text.Length
            ? ("without the line break at its end", trimmedEnd.ToArray())
            : ("with a line break added at its end", [.. body, (byte)'\n']));

        var trimmed = text.Trim(" \t\r\n"u8);
        if (trimmed.Length != text.Length)
        {
            edits.Add(("without the whitespace around it", trimmed.ToArray()));
        }

        if (text.IndexOf("\r\n"u8) >= 0)
        {
            edits.Add(("with its CRLF line endings turned into LF", Replace(body, "\r\n"u8, "\n"u8)));
        }
        else if (text.IndexOf((byte)'\n') >= 0)
        {
            edits.Add(("with its LF line endings turned into CRLF", Replace(body, "\n"u8, "\r\n"u8)));
        }

        return edits;
    }

    private static IEnumerable<(string, byte[])> JsonForms(byte[] body)
    {
        if (!TryParse(body, out var root))
        {
            yield break;
        }

        foreach (var spacing in Enum.GetValues<Spacing>())
        {
            foreach (var escaping in Enum.GetValues<Escaping>())
            {
                var bytes = TryWrite(root, spacing, escaping);
                if (bytes is not null)
                {
                    yield return ($"as the same JSON {Describe(spacing)}, {Describe(escaping)}", bytes);
                }
            }
        }

        yield return ("as System.Text.Json writes it by default (minified, non-ASCII and HTML characters escaped)",
            WriteWithSystemTextJson(root, indented: false, JavaScriptEncoder.Default));
        yield return ("as System.Text.Json writes it indented (non-ASCII and HTML characters escaped)",
            WriteWithSystemTextJson(root, indented: true, JavaScriptEncoder.Default));
        yield return ("as System.Text.Json writes it with relaxed escaping (minified)",
            WriteWithSystemTextJson(root, indented: false, JavaScriptEncoder.UnsafeRelaxedJsonEscaping));
        yield return ("as System.Text.Json writes it with relaxed escaping, indented",
            WriteWithSystemTextJson(root, indented: true, JavaScriptEncoder.UnsafeRelaxedJsonEscaping));
    }

    private static string Describe(Spacing spacing) => spacing switch
    {
        Spacing.Minified => "minified",
        Spacing.PythonDefault => "with \", \" and \": \" separators (Python's json.dumps default)",
        Spacing.TwoSpaces => "indented by 2 spaces",
        _ => "indented by 4 spaces",
    };

    private static string Describe(Escaping escaping) => escaping switch
    {
        Escaping.None => "non-ASCII characters left as they are",
        Escaping.NonAscii => "non-ASCII characters written as \\uXXXX escapes",
        _ => "non-ASCII characters and '/' escaped (PHP's json_encode default)",
    };

    private static bool TryParse(byte[] body, out JsonElement root)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            root = document.RootElement.Clone();
            return true;
        }
        catch (JsonException)
        {
            root = default;
            return false;
        }
    }

    private static byte[] WriteWithSystemTextJson(JsonElement root, bool indented, JavaScriptEncoder encoder)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented, Encoder = encoder, NewLine = "\n" }))
        {
            root.WriteTo(writer);
        }

        return stream.ToArray();
    }

    /// <summary>
    /// Writes <paramref name="root"/> the way JavaScript's <c>JSON.stringify</c>, Python's <c>json.dumps</c>
    /// and PHP's <c>json_encode</c> do: same order of keys, numbers as written, lowercase <c>\u</c> escapes.
    /// Null when a string cannot be represented (an escaped lone surrogate).
    /// </summary>
    private static byte[]? TryWrite(JsonElement root, Spacing spacing, Escaping escaping)
    {
        var text = new StringBuilder();
        try
        {
            Write(text, root, spacing, escaping, depth: 0);
        }
        catch (InvalidOperationException)
        {
            return null;
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private static void Write(StringBuilder text, JsonElement element, Spacing spacing, Escaping escaping, int depth)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var properties = element.EnumerateObject().ToList();
                WriteContainer(text, '{', '}', properties.Count, spacing, depth, i =>
                {
                    WriteString(text, properties[i].Name, escaping);
                    text.Append(spacing == Spacing.Minified ? ":" : ": ");
                    Write(text, properties[i].Value, spacing, escaping, depth + 1);
                });
                break;
            case JsonValueKind.Array:
                var items = element.EnumerateArray().ToList();
                WriteContainer(text, '[', ']', items.Count, spacing, depth, i => Write(text, items[i], spacing, escaping, depth + 1));
                break;
            case JsonValueKind.String:
                WriteString(text, element.GetString()!, escaping);
                break;
            default:
                // Numbers keep their text: a re-serialiser that rewrites 1.50 as 1.5 is beyond this guess.
                text.Append(element.GetRawText());
                break;
        }
    }

    private static void WriteContainer(
        StringBuilder text, char open, char close, int count, Spacing spacing, int depth, Action<int> writeItem)
    {
        text.Append(open);
        var indent = spacing switch
        {
            Spacing.TwoSpaces => 2,
            Spacing.FourSpaces => 4,
            _ => 0,
        };
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
            {
                text.Append(spacing == Spacing.PythonDefault ? ", " : ",");
            }

            if (indent > 0)
            {
                text.Append('\n').Append(' ', indent * (depth + 1));
            }

            writeItem(i);
        }

        if (indent > 0 && count > 0)
        {
            text.Append('\n').Append(' ', indent * depth);
        }

        text.Append(close);
    }

    private static void WriteString(StringBuilder text, string value, Escaping escaping)
    {
        text.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': text.Append("\\\""); break;
                case '\\': text.Append("\\\\"); break;
                case '\b': text.Append("\\b"); break;
                case '\f': text.Append("\\f"); break;
                case '\n': text.Append("\\n"); break;
                case '\r': text.Append("\\r"); break;
                case '\t': text.Append("\\t"); break;
                case '/' when escaping == Escaping.NonAsciiAndSlash: text.Append("\\/"); break;
                case < ' ':
                case > '\u007f' when escaping != Escaping.None:
                    text.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
                    break;
                default: text.Append(c); break;
            }
        }

        text.Append('"');
    }

    private static byte[] Replace(byte[] body, ReadOnlySpan<byte> from, ReadOnlySpan<byte> to)
    {
        var output = new List<byte>(body.Length + (body.Length / 16));
        var rest = body.AsSpan();
        int at;
        while ((at = rest.IndexOf(from)) >= 0)
        {
            output.AddRange(rest[..at]);
            output.AddRange(to);
            rest = rest[(at + from.Length)..];
        }

        output.AddRange(rest);
        return [.. output];
    }
}
