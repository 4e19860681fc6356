using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Hookline.Server.Tests.Infrastructure;
using Hookline.Testing;

namespace Hookline.Server.Tests.MerchantApi;

/// <summary>
/// The URL corpus of <c>testdata/urls/</c> (format in its README) sent through <c>POST /v1/webhooks</c> on a
/// server with the default policy: the API gives each URL the verdict the policy's own corpus tests expect,
/// so nothing between the request and the policy (JSON, field limits) changes what is allowed.
/// </summary>
public sealed class UrlCorpusThroughApiTests : IAsyncLifetime
{
    private static readonly (string Token, string Text)[] Escapes =
    [
        ("{CR}", "\r"), ("{LF}", "\n"), ("{TAB}", "\t"), ("{SP}", " "), ("{NUL}", "\0"),
        ("{NBSP}", "\u00A0"), ("{SHY}", "\u00AD"), ("{ZWSP}", "\u200B"), ("{IDSP}", "\u3000"),
    ];

    private HooklineHost _host = null!;
    private TestAccount _account = null!;

    public async Task InitializeAsync()
    {
        _host = await HooklineHost.StartAsync(
            new Dictionary<string, string?> { ["Delivery:AllowPrivateNetworks"] = "false", ["Limits:PaymentsWebhooks"] = "1000" },
            time: new ManualTimeProvider(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero)),
            dns: new ScriptedDns("93.184.215.14"));
        _account = await _host.CreateAccountAsync();
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Every_blocked_url_is_refused_as_private()
    {
        var wrong = new List<string>();
        foreach (var (url, _) in Read("blocked.txt"))
        {
            var (status, description) = await CreateAsync(url);
            if (status != HttpStatusCode.BadRequest || description != "private ip found for host")
            {
                wrong.Add($"{Show(url)} → {(int)status} {description}");
            }
        }

        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        Assert.Equal(0, (await _account.Test.GetJsonAsync("/v1/webhooks")).GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Every_allowed_url_is_accepted()
    {
        var wrong = new List<string>();
        var rows = Read("allowed.txt");
        foreach (var (url, _) in rows)
        {
            var (status, description) = await CreateAsync(url);
            if (status != HttpStatusCode.Created)
            {
                wrong.Add($"{Show(url)} → {(int)status} {description}");
            }
        }

        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        Assert.Equal(rows.Count, (await _account.Test.GetJsonAsync("/v1/webhooks")).GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Every_rejected_url_gets_its_description()
    {
        var wrong = new List<string>();
        foreach (var (url, expected) in Read("rejected.txt"))
        {
            var (status, description) = await CreateAsync(url);
            if (status != HttpStatusCode.BadRequest || description != expected)
            {
                wrong.Add($"{Show(url)} → {(int)status} {description}, expected {expected}");
            }
        }

        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    private async Task<(HttpStatusCode Status, string? Description)> CreateAsync(string url)
    {
        var response = await _account.Test.PostAsJsonAsync("/v1/webhooks", new { url, events = new[] { "payment.captured" } });
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        if (response.StatusCode == HttpStatusCode.Created)
        {
            return (response.StatusCode, null);
        }

        var error = json.GetProperty("error");
        Assert.Equal("url", error.GetProperty("field").GetString());
        return (response.StatusCode, error.GetProperty("description").GetString());
    }

    /// <summary>(decoded URL, expected description of the last <c>&gt; description</c> line).</summary>
    private static List<(string Url, string Expected)> Read(string file)
    {
        var rows = new List<(string, string)>();
        var expected = "";
        foreach (var line in File.ReadAllLines(Path.Combine(CorpusDirectory(), file), Encoding.UTF8))
        {
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            if (line.StartsWith("> ", StringComparison.Ordinal))
            {
                expected = line[2..];
                continue;
            }

            var url = new StringBuilder(line);
            foreach (var (token, text) in Escapes)
            {
                url.Replace(token, text);
            }

            rows.Add((url.ToString(), expected));
        }

        Assert.NotEmpty(rows);
        return rows;
    }

    private static string CorpusDirectory()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "testdata", "urls");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("testdata/urls not found above " + AppContext.BaseDirectory);
    }

    private static string Show(string url) => JsonSerializer.Serialize(url);
}
