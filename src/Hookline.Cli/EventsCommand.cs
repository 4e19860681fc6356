using System.CommandLine;
using System.Globalization;
using Hookline.Cli.Client;

namespace Hookline.Cli;

/// <summary><c>hookline events list|get|replay</c>: the merchant's event log, one event with its deliveries, and replay.</summary>
internal static class EventsCommand
{
    public static Command Create()
    {
        var options = new ClientOptions();
        var command = new Command("events", "List, inspect and replay events (the key's account and mode).") { List(options), Get(options), Replay(options) };
        options.AddTo(command);
        return command;
    }

    private static Command List(ClientOptions options)
    {
        var count = new Option<int?>("--count") { Description = "How many (1-100, default 10)." };
        var skip = new Option<int?>("--skip") { Description = "How many of the newest to skip." };
        var name = new Option<string?>("--event") { Description = "Only events of this name." };
        var from = new Option<long?>("--from") { Description = "Only events created at or after this Unix time." };
        var to = new Option<long?>("--to") { Description = "Only events created at or before this Unix time." };
        var command = new Command("list", "List events, newest first.") { count, skip, name, from, to };
        ClientCommand.SetAction(command, options, (client, parse, cancellationToken) =>
        {
            var query = Query(
                ("count", parse.GetValue(count)?.ToString(CultureInfo.InvariantCulture)),
                ("skip", parse.GetValue(skip)?.ToString(CultureInfo.InvariantCulture)),
                ("event", parse.GetValue(name)),
                ("from", parse.GetValue(from)?.ToString(CultureInfo.InvariantCulture)),
                ("to", parse.GetValue(to)?.ToString(CultureInfo.InvariantCulture)));
            return client.GetAsync("/v1/events" + query, cancellationToken);
        }, (events, output) => Table.Write(
            output, ["ID", "EVENT", "CREATED"], Table.Items(events).Select(e => new[] { Table.Text(e, "id"), Table.Text(e, "event"), Table.Text(e, "created_at") })));
        return command;
    }

    private static Command Get(ClientOptions options)
    {
        var id = new Argument<string>("id") { Description = "The event id (evt_…)." };
        var command = new Command("get", "Show an event and its deliveries.") { id };
        ClientCommand.SetAction(command, options, (client, parse, cancellationToken) => client.GetAsync("/v1/events/" + Uri.EscapeDataString(parse.GetRequiredValue(id)), cancellationToken), (evt, output) =>
        {
            var envelope = evt.GetProperty("envelope");
            Table.Details(output, [("id", Table.Text(evt, "id")), ("event", Table.Text(evt, "event")), ("mode", Table.Text(evt, "mode")),
                ("created_at", Table.Text(evt, "created_at")), ("contains", Table.Text(envelope, "contains"))]);
            output.WriteLine();
            Table.Write(output, ["DELIVERY", "WEBHOOK", "STATUS", "ATTEMPTS", "LAST"], evt.GetProperty("deliveries").EnumerateArray().Select(d => new[]
            {
                Table.Text(d, "id"), Table.Text(d, "webhook_id"), Table.Text(d, "status"), Table.Text(d, "attempt_count"),
                Table.Text(d, "last_error") is "-" ? Table.Text(d, "last_status_code") : Table.Text(d, "last_error"),
            }));
        });
        return command;
    }

    private static Command Replay(ClientOptions options)
    {
        var id = new Argument<string>("id") { Description = "The event id (evt_…)." };
        var webhook = new Option<string?>("--webhook") { Description = "Replay to this webhook only (default: every webhook subscribed when it happened)." };
        var command = new Command("replay", "Send an event again, with the same body and signature.") { id, webhook };
        ClientCommand.SetAction(command, options, (client, parse, cancellationToken) =>
        {
            var webhookId = parse.GetValue(webhook);
            return client.PostAsync(
                $"/v1/events/{Uri.EscapeDataString(parse.GetRequiredValue(id))}/replay",
                webhookId is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["webhook_id"] = webhookId },
                cancellationToken);
        }, (replay, output) => output.WriteLine($"Queued {Table.Text(replay, "queued")} deliver{(Table.Text(replay, "queued") == "1" ? "y" : "ies")} of {Table.Text(replay, "event_id")} for replay."));
        return command;
    }

    internal static string Query(params (string Name, string? Value)[] parameters)
    {
        var present = parameters.Where(p => p.Value is not null).Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}").ToList();
        return present.Count == 0 ? "" : "?" + string.Join("&", present);
    }
}
