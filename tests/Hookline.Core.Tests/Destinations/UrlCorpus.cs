using System.Text;

namespace Hookline.Core.Tests.Destinations;

/// <summary>Reads <c>testdata/urls/*.txt</c>; the format is described in <c>testdata/urls/README.md</c>.</summary>
internal static class UrlCorpus
{
    private static readonly (string Token, string Text)[] Escapes =
    [
        ("{CR}", "\r"),
        ("{LF}", "\n"),
        ("{TAB}", "\t"),
        ("{SP}", " "),
        ("{NUL}", "\0"),
        ("{NBSP}", "\u00A0"),
        ("{SHY}", "\u00AD"),
        ("{ZWSP}", "\u200B"),
        ("{IDSP}", "\u3000"),
    ];

    /// <summary>Rows of (entry as written, label): the label is the class comment, or the expected description.</summary>
    public static TheoryData<string, string> Read(string file)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "testdata", "urls", file);
        var rows = new TheoryData<string, string>();
        var label = string.Empty;
        var expectation = string.Empty;
        foreach (var line in File.ReadAllLines(path, Encoding.UTF8))
        {
            if (line.Length == 0)
            {
                continue;
            }

            if (line.StartsWith('#'))
            {
                label = line[1..].Trim();
            }
            else if (line.StartsWith("> ", StringComparison.Ordinal))
            {
                expectation = line[2..];
            }
            else
            {
                rows.Add(line, expectation.Length > 0 ? expectation : label);
            }
        }

        return rows;
    }

    public static string Decode(string entry)
    {
        var decoded = new StringBuilder(entry);
        foreach (var (token, text) in Escapes)
        {
            decoded.Replace(token, text);
        }

        return decoded.ToString();
    }
}
