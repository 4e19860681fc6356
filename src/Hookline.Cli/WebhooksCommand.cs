using System.CommandLine;
using System.Text.Json;
using Hookline.Cli.Client;

namespace Hookline.Cli;

/// <summary><c>hookline webhooks list|create|get|update|delete|test</c>: the merchant's endpoints.</summary>
internal static class WebhooksCommand
{
    public static Command Create()
    {
        var options = new ClientOptions();
        var command = new Command("webhooks", "Manage webhooks (the key's account and mode).")
        {
            List(options), CreateWebhook(options), Get(options), Update(options), Delete(options), Test(options),
        };
        options.AddTo(command);
        return command;
    }

    private static Command List(ClientOptions options)
    {
        var command = new Command("list", "List webhooks.");
        ClientCommand.SetAction(command, options, (client, _, cancellationToken) => client.GetAsync("/v1/webhooks", cancellationToken), (webhooks, output) => Table.Write(
            output, ["ID", "PRODUCT", "ACTIVE", "URL", "EVENTS"],
            Table.Items(webhooks).Select(w => new[] { Table.Text(w, "id"), Table.Text(w, "product"), Table.Text(w, "active"), Table.Text(w, "url"), Table.Text(w, "events") })));
        return command;
    }

    private static Command CreateWebhook(ClientOptions options)
    {
        var fields = new WebhookFields(required: true);
        var product = new Option<string?>("--product") { Description = "payments (default) or payouts." };
        product.AcceptOnlyFromAmong("payments", "payouts");
        var inactive = new Option<bool>("--inactive") { Description = "Create it disabled." };
        var command = new Command("create", "Create a webhook.") { product, inactive };
        fields.AddTo(command);
        ClientCommand.SetAction(command, options, (client, parse, cancellationToken) =>
        {
            var body = fields.Read(parse);
            if (parse.GetValue(product) is { } p)
            {
                body["product"] = p;
            }

            if (parse.GetValue(inactive))
            {
                body["active"] = false;
            }

            return client.PostAsync("/v1/webhooks", body, cancellationToken);
        }, Render);
        return command;
    }

    private static Command Get(ClientOptions options)
    {
        var id = Id();
        var command = new Command("get", "Show a webhook.") { id };
        ClientCommand.SetAction(command, options, (client, parse, cancellationToken) => client.GetAsync(Path(parse, id), cancellationToken), Render);
        return command;
    }

    private static Command Update(ClientOptions options)
    {
        var id = Id();
        var fields = new WebhookFields(required: false);
        var active = new Option<bool?>("--active") { Description = "true to enable, false to disable." };
        var command = new Command("update", "Change a webhook; only the options given change.") { id, active };
        fields.AddTo(command);
        ClientCommand.SetAction(command, options, (client, parse, cancellationToken) =>
        {
            var body = fields.Read(parse);
            if (parse.GetValue(active) is { } value)
            {
                body["active"] = value;
            }

            return body.Count == 0
                ? throw new ArgumentException("Nothing to update: give --url, --events, --secret, --alert-email or --active.")
                : client.PatchAsync(Path(parse, id), body, cancellationToken);
        }, Render);
        return command;
    }

    private static Command Delete(ClientOptions options)
    {
        var id = Id();
        var command = new Command("delete", "Delete a webhook; its pending deliveries are cancelled.") { id };
        ClientCommand.SetAction(command, options, (client, parse, cancellationToken) => client.DeleteAsync(Path(parse, id), cancellationToken),
            (_, output) => output.WriteLine("Deleted."));
        return command;
    }

    private static Command Test(ClientOptions options)
    {
        var id = Id();
        var name = new Option<string?>("--event") { Description = "The event to send (default: the first the webhook subscribes to)." };
        var command = new Command("test", "Send the catalogue's sample of an event to a webhook (test keys only).") { id, name };
        ClientCommand.SetAction(command, options, (client, parse, cancellationToken) =>
        {
            var eventName = parse.GetValue(name);
            return client.PostAsync(Path(parse, id) + "/test", eventName is null ? null : new Dictionary<string, string> { ["event"] = eventName }, cancellationToken);
        }, (fired, output) => output.WriteLine($"Sent {Table.Text(fired, "id")} ({Table.Text(fired, "event")}) to {Table.Text(fired, "webhook_id")}."));
        return command;
    }

    private static void Render(JsonElement webhook, TextWriter output)
    {
        var fields = new List<(string, string)>();
        foreach (var name in new[] { "id", "url", "product", "events", "active", "alert_email", "secret_exists", "created_at", "updated_at", "disabled_at", "disabled_reason" })
        {
            fields.Add((name, Table.Text(webhook, name)));
        }

        if (webhook.TryGetProperty("secret", out var secret))
        {
            fields.Add(("secret", $"{secret.GetString()} (shown once: keep it now)"));
        }

        Table.Details(output, fields);
    }

    private static Argument<string> Id() => new("id") { Description = "The webhook id (wh_…)." };

    private static string Path(ParseResult parse, Argument<string> id) => "/v1/webhooks/" + Uri.EscapeDataString(parse.GetRequiredValue(id));

    /// <summary>The fields create and update share.</summary>
    private sealed class WebhookFields(bool required)
    {
        private readonly Option<string?> _url = new("--url") { Description = "The endpoint (http or https, port 80 or 443).", Required = required };
        private readonly Option<string[]> _events = new("--events")
        {
            Description = "Event names, comma-separated or repeated; * for every event of the product.",
            Required = required,
            AllowMultipleArgumentsPerToken = true,
        };

        private readonly Option<string?> _secret = new("--secret") { Description = "The signing secret, or \"generate\" for a whsec_ secret shown once." };
        private readonly Option<string?> _alertEmail = new("--alert-email") { Description = "Where failure alerts go (default: the account's e-mail)." };

        public void AddTo(Command command)
        {
            command.Options.Add(_url);
            command.Options.Add(_events);
            command.Options.Add(_secret);
            command.Options.Add(_alertEmail);
        }

        public Dictionary<string, object> Read(ParseResult parse)
        {
            var body = new Dictionary<string, object>();
            if (parse.GetValue(_url) is { } url)
            {
                body["url"] = url;
            }

            if (parse.GetValue(_events) is { Length: > 0 } events)
            {
                body["events"] = events.SelectMany(e => e.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray();
            }

            if (parse.GetValue(_secret) is { } secret)
            {
                body["secret"] = secret;
            }

            if (parse.GetValue(_alertEmail) is { } email)
            {
                body["alert_email"] = email;
            }

            return body;
        }
    }
}
