using System.CommandLine;
using Hookline.Core.Storage;
using Hookline.Server;
using Microsoft.Extensions.DependencyInjection;

namespace Hookline.Cli;

/// <summary><c>hookline migrate</c>: apply storage migrations and exit.</summary>
internal static class MigrateCommand
{
    public static Command Create()
    {
        var dataDir = new Option<string?>("--data-dir") { Description = "Data directory (default ./data)." };
        var postgres = ServeCommand.PostgresOption();
        var command = new Command("migrate", "Apply storage migrations and exit.") { dataDir, postgres };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = new List<string>();
            ServeCommand.Add(settings, "Storage:DataDirectory", parse.GetValue(dataDir));
            ServeCommand.AddPostgres(settings, parse.GetValue(postgres));
            await using var app = HooklineServer.Build([.. settings]);
            await app.Services.GetRequiredService<IHooklineStore>().MigrateAsync(cancellationToken);
            await Console.Out.WriteLineAsync("Migrations applied.");
            return 0;
        });
        return command;
    }
}
