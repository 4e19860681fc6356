using System.CommandLine;
using Hookline.Cli;

var root = new RootCommand("Hookline: signed, retried, logged webhook delivery.")
{
    ServeCommand.Create(),
    MigrateCommand.Create(),
    TriggerCommand.Create(),
    EventsCommand.Create(),
    WebhooksCommand.Create(),
};

return await root.Parse(args).InvokeAsync();
