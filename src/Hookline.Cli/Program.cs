using System.CommandLine;
using Hookline.Cli;
using Hookline.Cli.Bench;

var root = new RootCommand("Hookline: signed, retried, logged webhook delivery.")
{
    ServeCommand.Create(),
    MigrateCommand.Create(),
    TriggerCommand.Create(),
    EventsCommand.Create(),
    WebhooksCommand.Create(),
    BenchCommand.Create(),
    RawPostProcess.Create(),
};

return await root.Parse(args).InvokeAsync();
