using System.CommandLine;
using System.Net.Http.Json;
using System.Text.Json;
using Hookline.Cli.Tests.Infrastructure;
using Hookline.Server.Tests.Infrastructure;

namespace Hookline.Cli.Tests.Commands;

/// <summary>The outcome of one <c>hookline</c> command: exit code, stdout and stderr.</summary>
internal sealed record CliResult(int ExitCode, string Output, string Error)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}--- stderr\n{Error}";
}

/// <summary>
/// <c>hookline serve</c> as a real process with one merchant account, a receiver for its webhooks, and the
/// API commands run in-process against it with <c>--server</c> and <c>--key</c>.
/// </summary>
public sealed class CliServer : IAsyncLifetime
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("hookline-cli-").FullName;
    private ServerProcess _server = null!;

    internal TestReceiver Receiver { get; private set; } = null!;

    internal string Server => _server.BaseAddress.ToString().TrimEnd('/');

    internal string TestKey { get; private set; } = "";

    internal string LiveKey { get; private set; } = "";

    internal HttpClient Merchant { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Receiver = await TestReceiver.StartAsync();
        _server = await ServerProcess.StartAsync(_dataDirectory, ServerProcess.FreePort());
        using var platform = _server.Platform();
        var account = await (await platform.PostAsJsonAsync("/v1/accounts", new { name = "Cli", email = "cli@example.test" })).Content.ReadFromJsonAsync<JsonElement>();
        string Key(string mode)
        {
            var key = account.GetProperty("keys").EnumerateArray().First(k => k.GetProperty("mode").GetString() == mode);
            return $"{key.GetProperty("id").GetString()}:{key.GetProperty("secret").GetString()}";
        }

        TestKey = Key("test");
        LiveKey = Key("live");
        Merchant = _server.Merchant(TestKey.Split(':')[0], TestKey.Split(':')[1]);
    }

    public async Task DisposeAsync()
    {
        Merchant.Dispose();
        await _server.DisposeAsync();
        await Receiver.DisposeAsync();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    /// <summary>Runs <c>hookline &lt;args&gt; --server … --key …</c> with the account's test key.</summary>
    internal Task<CliResult> RunAsync(params string[] args) => RunWithAsync(TestKey, args);

    internal Task<CliResult> RunWithAsync(string? key, params string[] args)
        => RunRawAsync([.. args, "--server", Server, .. key is null ? Array.Empty<string>() : ["--key", key]]);

    /// <summary>Runs the commands exactly as given, with whatever the environment holds.</summary>
    internal static async Task<CliResult> RunRawAsync(params string[] args)
    {
        var root = new RootCommand { TriggerCommand.Create(), EventsCommand.Create(), WebhooksCommand.Create() };
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return new CliResult(exit, output.ToString(), error.ToString());
    }
}
