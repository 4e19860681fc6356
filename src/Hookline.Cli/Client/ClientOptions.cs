using System.CommandLine;

namespace Hookline.Cli.Client;

/// <summary>
/// The options every API command takes: where the server is, the merchant key, and raw JSON output. They are
/// recursive, so <c>hookline webhooks list --json</c> and <c>hookline webhooks --json list</c> both work.
/// </summary>
internal sealed class ClientOptions
{
    public const string ServerVariable = "HOOKLINE_SERVER";
    public const string KeyVariable = "HOOKLINE_KEY";
    public const string DefaultServer = "http://localhost:8080";

    public Option<string?> Server { get; } = new("--server")
    {
        Description = $"Hookline's address (default: ${ServerVariable}, else {DefaultServer}).",
        Recursive = true,
    };

    public Option<string?> Key { get; } = new("--key")
    {
        Description = $"Merchant API key as key_id:key_secret (default: ${KeyVariable}).",
        Recursive = true,
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print the API's JSON answer instead of a table.",
        Recursive = true,
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Server);
        command.Options.Add(Key);
        command.Options.Add(Json);
    }
}
