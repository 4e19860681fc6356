using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Hookline.Cli.Client;

/// <summary>
/// Runs one API command: builds the client from <c>--server</c>/<c>--key</c> (or the environment), prints the
/// answer as a table or, with <c>--json</c>, as JSON; an API error or an unreachable server is one line on
/// stderr and exit code 1.
/// </summary>
internal static class ClientCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void SetAction(Command command, ClientOptions options, Func<ApiClient, ParseResult, CancellationToken, Task<JsonElement>> call, Action<JsonElement, TextWriter> render)
        => command.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var server = parse.GetValue(options.Server) ?? Environment.GetEnvironmentVariable(ClientOptions.ServerVariable) ?? ClientOptions.DefaultServer;
            var key = parse.GetValue(options.Key) ?? Environment.GetEnvironmentVariable(ClientOptions.KeyVariable);
            if (string.IsNullOrEmpty(key))
            {
                await error.WriteLineAsync($"error: no API key; pass --key key_id:key_secret or set {ClientOptions.KeyVariable}.");
                return 1;
            }

            try
            {
                using var client = ApiClient.Create(server, key);
                var answer = await call(client, parse, cancellationToken);
                if (parse.GetValue(options.Json))
                {
                    await output.WriteLineAsync(answer.ValueKind == JsonValueKind.Undefined ? "{}" : JsonSerializer.Serialize(answer, Indented));
                }
                else
                {
                    render(answer, output);
                }

                return 0;
            }
            catch (ApiError e)
            {
                await error.WriteLineAsync($"error: {e.Message}{(e.Field is null ? "" : $" (field: {e.Field})")}");
                return 1;
            }
            catch (ArgumentException e)
            {
                await error.WriteLineAsync($"error: {e.Message}");
                return 1;
            }
            catch (HttpRequestException e)
            {
                await error.WriteLineAsync($"error: cannot reach {server}: {e.Message}");
                return 1;
            }
        });
}
