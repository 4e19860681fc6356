using System.CommandLine;
using System.Text.Json;
using Hookline.Cli.Client;

namespace Hookline.Cli;

/// <summary><c>hookline trigger &lt;event&gt; [--option k=v]…</c>: runs the sandbox flow of an event and lists what it published.</summary>
internal static class TriggerCommand
{
    public static Command Create()
    {
        var options = new ClientOptions();
        var name = new Argument<string>("event") { Description = "A catalogue event, e.g. order.paid or refund.processed." };
        var flowOptions = new Option<string[]>("--option", "-o")
        {
            Description = "A flow option as key=value, repeatable: amount=50000, method=upi, payment_id=pay_… (act on an existing entity).",
        };
        var command = new Command("trigger", "Run the sandbox flow of an event (test keys only) and list every event it published.") { name, flowOptions };
        options.AddTo(command);
        ClientCommand.SetAction(command, options, (client, parse, cancellationToken) =>
        {
            var body = new Dictionary<string, string> { ["event"] = parse.GetRequiredValue(name) };
            foreach (var pair in parse.GetValue(flowOptions) ?? [])
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                if (equals <= 0 || pair[..equals] == "event")
                {
                    throw new ArgumentException($"--option takes key=value (and the event is the argument), not {pair}.");
                }

                body[pair[..equals]] = pair[(equals + 1)..];
            }

            return client.PostAsync("/v1/sandbox/trigger", body, cancellationToken);
        }, Render);
        return command;
    }

    private static void Render(JsonElement published, TextWriter output)
    {
        var items = Table.Items(published).ToList();
        Table.Write(output, ["#", "EVENT", "ID", "DELIVERIES", "ENTITIES"], items.Select((e, i) => new[]
        {
            (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
            Table.Text(e, "event"),
            Table.Text(e, "id"),
            Table.Text(e, "deliveries"),
            string.Join(" ", e.GetProperty("entities").EnumerateObject().Select(p => $"{p.Name}={p.Value.GetString()}")),
        }));
        output.WriteLine($"Published {items.Count} event{(items.Count == 1 ? "" : "s")}.");
    }
}
