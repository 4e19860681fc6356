using Microsoft.Extensions.Hosting;
using System.CommandLine;
using Hookline.Server;

namespace Hookline.Cli;

/// <summary><c>hookline serve</c>: API and dispatcher in one process, SQLite under ./data by default.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var urls = new Option<string?>("--urls") { Description = $"Addresses to listen on (default {HooklineServer.DefaultUrls})." };
        var dataDir = new Option<string?>("--data-dir") { Description = "Data directory: database, platform token, master key (default ./data)." };
        var role = new Option<string?>("--role") { Description = "all (default), api or worker." };
        role.AcceptOnlyFromAmong("all", "api", "worker");
        var postgres = PostgresOption();
        var command = new Command("serve", "Run Hookline: the API and the delivery workers.") { urls, dataDir, role, postgres };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = new List<string>(parse.UnmatchedTokens);
            Add(settings, "urls", parse.GetValue(urls));
            Add(settings, "Storage:DataDirectory", parse.GetValue(dataDir));
            Add(settings, "Server:Role", parse.GetValue(role));
            AddPostgres(settings, parse.GetValue(postgres));
            var app = HooklineServer.Build([.. settings]);
            await app.StartAsync(cancellationToken);
            await app.WaitForShutdownAsync(cancellationToken);
            return 0;
        });
        return command;
    }

    /// <summary><c>--postgres "&lt;connection string&gt;"</c>: PostgreSQL instead of the embedded SQLite.</summary>
    internal static Option<string?> PostgresOption()
        => new("--postgres") { Description = "Use PostgreSQL with this Npgsql connection string (\"Host=…;Database=…;Username=…;Password=…\") instead of SQLite." };

    internal static void AddPostgres(List<string> settings, string? connectionString)
    {
        if (connectionString is not null)
        {
            Add(settings, "Storage:Provider", "postgres");
            Add(settings, "Storage:ConnectionString", connectionString);
        }
    }

    internal static void Add(List<string> settings, string key, string? value)
    {
        if (value is not null)
        {
            settings.Add($"--{key}={value}");
        }
    }
}
