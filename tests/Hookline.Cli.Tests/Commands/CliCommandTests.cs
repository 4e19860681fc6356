using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Hookline.Cli.Tests.Infrastructure;

namespace Hookline.Cli.Tests.Commands;

/// <summary><c>hookline trigger</c>, <c>events</c> and <c>webhooks</c> against a running server.</summary>
public sealed class CliCommandTests(CliServer server) : IClassFixture<CliServer>
{
    [Fact]
    public async Task Trigger_prints_every_published_event_in_order()
    {
        var result = await server.RunAsync("trigger", "order.paid", "--option", "amount=75000");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^#\s+EVENT\s+ID\s+DELIVERIES\s+ENTITIES$", lines[0]);
        Assert.Matches(@"^1\s+payment\.authorized\s+evt_\w{14}\s+\d+\s+payment=pay_\w{14}$", lines[1]);
        Assert.Matches(@"^2\s+payment\.captured\s+evt_\w{14}", lines[2]);
        Assert.Matches(@"^3\s+order\.paid\s+evt_\w{14}\s+\d+\s+payment=pay_\w{14} order=order_\w{14}$", lines[3]);
        Assert.Equal("Published 3 events.", lines[4]);

        // What it printed is what the server stored.
        var orderPaid = lines[3].Split("  ", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[2];
        var stored = await server.Merchant.GetFromJsonAsync<JsonElement>($"/v1/events/{orderPaid}");
        Assert.Equal(75_000, stored.GetProperty("envelope").GetProperty("payload").GetProperty("order").GetProperty("entity").GetProperty("amount").GetInt64());
    }

    [Fact]
    public async Task Trigger_acts_on_an_existing_entity_named_by_an_option()
    {
        var captured = await server.RunAsync("trigger", "payment.captured", "--json");
        Assert.True(captured.ExitCode == 0, captured.ToString());
        using var json = JsonDocument.Parse(captured.Output);
        Assert.Equal(2, json.RootElement.GetProperty("count").GetInt32());
        var paymentId = json.RootElement.GetProperty("items")[1].GetProperty("entities").GetProperty("payment").GetString()!;

        var refunded = await server.RunAsync("trigger", "refund.processed", "-o", $"payment_id={paymentId}", "-o", "amount=100");
        Assert.True(refunded.ExitCode == 0, refunded.ToString());
        Assert.Contains($"refund.created", refunded.Output, StringComparison.Ordinal);
        Assert.Matches($@"refund\.processed\s+evt_\w{{14}}\s+\d+\s+refund=rfnd_\w{{14}} payment={paymentId}", refunded.Output);

        var refused = await server.RunAsync("trigger", "refund.processed", "-o", "payment_id=pay_00000000000000");
        Assert.Equal(1, refused.ExitCode);
        Assert.Empty(refused.Output);
        Assert.StartsWith("error: There is no sandbox payment pay_00000000000000 in this account.", refused.Error, StringComparison.Ordinal);
        Assert.EndsWith("(field: payment_id)\n", refused.Error, StringComparison.Ordinal);

        var badOption = await server.RunAsync("trigger", "refund.processed", "-o", "amount");
        Assert.Equal(1, badOption.ExitCode);
        Assert.Contains("--option takes key=value", badOption.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Trigger_with_a_live_key_or_an_unknown_event_is_refused()
    {
        var live = await server.RunWithAsync(server.LiveKey, "trigger", "payment.captured");
        Assert.Equal((1, "error: The sandbox is available with test-mode keys only.\n"), (live.ExitCode, live.Error));

        var unknown = await server.RunAsync("trigger", "payment.exploded");
        Assert.Equal((1, "error: Invalid event name/names: payment.exploded (field: event)\n"), (unknown.ExitCode, unknown.Error));
    }

    [Fact]
    public async Task Webhooks_are_created_listed_shown_updated_tested_and_deleted()
    {
        var created = await server.RunAsync("webhooks", "create", "--url", server.Receiver.Url.ToString(), "--events", "payment.captured,order.paid", "--secret", "generate");
        Assert.True(created.ExitCode == 0, created.ToString());
        var id = Field(created.Output, "id");
        Assert.Matches(@"^wh_\w{14}$", id);
        Assert.Equal("payment.captured,order.paid", Field(created.Output, "events"));
        Assert.StartsWith("whsec_", Field(created.Output, "secret"), StringComparison.Ordinal);

        var list = await server.RunAsync("webhooks", "list");
        Assert.Matches($@"(?m)^{id}\s+payments\s+yes\s+{server.Receiver.Url}\s+payment\.captured,order\.paid$", list.Output);

        var disabled = await server.RunAsync("webhooks", "update", id, "--active", "false", "--events", "*");
        Assert.True(disabled.ExitCode == 0, disabled.ToString());
        Assert.Equal(("no", "*"), (Field(disabled.Output, "active"), Field(disabled.Output, "events")));
        var refused = await server.RunAsync("webhooks", "test", id);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("disabled", refused.Error, StringComparison.Ordinal);

        Assert.Equal("yes", Field((await server.RunAsync("webhooks", "update", id, "--active", "true")).Output, "active"));
        var fired = await server.RunAsync("webhooks", "test", id, "--event", "refund.processed");
        Assert.Matches($@"^Sent evt_\w{{14}} \(refund\.processed\) to {id}\.\n$", fired.Output);
        var firedId = fired.Output.Split(' ')[1];
        await Eventually(() => server.Receiver.Requests.Any(r => r.Path == server.Receiver.Url.AbsolutePath && r.Header("webhook-id") == firedId));

        var shown = await server.RunAsync("webhooks", "get", id, "--json");
        using (var json = JsonDocument.Parse(shown.Output))
        {
            Assert.Equal(id, json.RootElement.GetProperty("id").GetString());
            Assert.True(json.RootElement.GetProperty("secret_exists").GetBoolean());
        }

        Assert.Equal("Deleted.\n", (await server.RunAsync("webhooks", "delete", id)).Output);
        var gone = await server.RunAsync("webhooks", "get", id);
        Assert.Equal((1, "error: The id provided does not exist\n"), (gone.ExitCode, gone.Error));
        var nothing = await server.RunAsync("webhooks", "update", id);
        Assert.Contains("Nothing to update", nothing.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Events_are_listed_shown_with_deliveries_and_replayed()
    {
        var webhook = Field((await server.RunAsync("webhooks", "create", "--url", new Uri(server.Receiver.Url, "/events-test").ToString(), "--events", "invoice.paid")).Output, "id");
        var triggered = await server.RunAsync("trigger", "invoice.paid", "--json");
        using var json = JsonDocument.Parse(triggered.Output);
        var eventId = json.RootElement.GetProperty("items").EnumerateArray().Single(e => e.GetProperty("event").GetString() == "invoice.paid").GetProperty("id").GetString()!;
        await Eventually(() => server.Receiver.Requests.Count(r => r.Path == "/events-test") >= 1);

        var list = await server.RunAsync("events", "list", "--event", "invoice.paid", "--count", "5");
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Matches(@"^ID\s+EVENT\s+CREATED\n", list.Output);
        Assert.Matches($@"(?m)^{eventId}\s+invoice\.paid\s+\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\dZ$", list.Output);

        var shown = await server.RunAsync("events", "get", eventId);
        Assert.Equal("invoice.paid", Field(shown.Output, "event"));
        Assert.Equal("payment,order,invoice", Field(shown.Output, "contains"));
        await Eventually(async () => (await server.RunAsync("events", "get", eventId)).Output.Contains(" succeeded ", StringComparison.Ordinal));
        Assert.Matches($@"(?m)^dlv_\w{{14}}\s+{webhook}\s+(pending|succeeded)\s+\d", shown.Output);

        var replayed = await server.RunAsync("events", "replay", eventId, "--webhook", webhook);
        Assert.Equal($"Queued 1 delivery of {eventId} for replay.\n", replayed.Output);
        await Eventually(() => server.Receiver.Requests.Count(r => r.Path == "/events-test") >= 2);
        Assert.All(server.Receiver.Requests.Where(r => r.Path == "/events-test"), r => Assert.Equal(eventId, r.Header("webhook-id")));

        var bad = await server.RunAsync("events", "list", "--count", "500");
        Assert.Equal((1, "error: The count must be an integer from 1 to 100. (field: count)\n"), (bad.ExitCode, bad.Error));
    }

    [Fact]
    public async Task Server_and_key_come_from_the_environment_when_not_given()
    {
        var missing = await CliServer.RunRawAsync("webhooks", "list", "--server", server.Server);
        if (Environment.GetEnvironmentVariable("HOOKLINE_KEY") is null)
        {
            Assert.Equal((1, "error: no API key; pass --key key_id:key_secret or set HOOKLINE_KEY.\n"), (missing.ExitCode, missing.Error));
        }

        // A separate process, so this test's environment cannot leak into the others.
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { ServerProcess.HooklineDll(), "trigger", "payment.captured" })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["HOOKLINE_SERVER"] = server.Server;
        start.Environment["HOOKLINE_KEY"] = server.TestKey;
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {output}{error}");
        Assert.EndsWith("Published 2 events.\n", output, StringComparison.Ordinal);

        var unreachable = await CliServer.RunRawAsync("webhooks", "list", "--server", "http://127.0.0.1:9", "--key", server.TestKey);
        Assert.Equal(1, unreachable.ExitCode);
        Assert.StartsWith("error: cannot reach http://127.0.0.1:9", unreachable.Error, StringComparison.Ordinal);
    }

    /// <summary>The value of a "key: value" line of the details output.</summary>
    private static string Field(string output, string key)
        => output.Split('\n').Select(l => l.Split(':', 2)).Where(p => p.Length == 2 && p[0] == key).Select(p => p[1].Trim()).FirstOrDefault()
           ?? throw new Xunit.Sdk.XunitException($"no {key}: line in\n{output}");

    private static Task Eventually(Func<bool> condition) => Eventually(() => Task.FromResult(condition()));

    private static async Task Eventually(Func<Task<bool>> condition)
    {
        var until = Environment.TickCount64 + 20_000;
        while (!await condition())
        {
            Assert.True(Environment.TickCount64 < until, "condition not reached in 20 s");
            await Task.Delay(25);
        }
    }
}
