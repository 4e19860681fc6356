using System.Net.Http.Json;
using System.Text.Json;
using Hookline.Core.Delivery;
using Hookline.Server.Tests.Infrastructure;

namespace Hookline.Server.Tests.Deliveries;

public sealed class RefusedResultTests
{
    [Fact]
    public async Task Result_the_store_refuses_is_set_apart_so_the_rest_of_its_batch_is_recorded_and_its_delivery_comes_back()
    {
        // Leases short enough to run out within the test; the attempt timeout has to stay below them.
        await using var host = await HooklineHost.StartAsync(new Dictionary<string, string?>
        {
            ["Delivery:LeaseDuration"] = "00:00:03",
            ["Delivery:Timeout"] = "00:00:02",
        });
        var answer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var receiver = await TestReceiver.StartAsync(async (_, context) => await answer.Task.WaitAsync(context.RequestAborted));
        var account = await host.CreateAccountAsync();
        await account.CreateWebhookAsync(receiver.Url.ToString());
        var writer = host.Get<CompletionWriter>();
        var events = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            events.Add((await host.PublishAsync(account.Id)).GetProperty("id").GetString()!);
        }

        // The database will refuse to record an attempt of the third event's delivery (as a bug in what a results
        // batch holds would show). Every receiver answer is held until now, so all five results reach the writer
        // together and share a batch.
        var poisoned = events[2];
        await ExecuteAsync(host, $"""
            CREATE TRIGGER refuse_attempts BEFORE INSERT ON attempts
            WHEN (SELECT event_id FROM deliveries WHERE id = NEW.delivery_id) = '{poisoned}'
            BEGIN SELECT RAISE(ABORT, 'refused by the test'); END
            """);
        await receiver.WaitForAsync(5);
        answer.SetResult();

        await Eventually.UntilAsync(() => Task.FromResult((writer.Written, writer.Dropped)), w => w == (4, 1), what: "four results written and the refused one dropped");
        Assert.Equal(0, writer.Unwritten);
        foreach (var id in events)
        {
            var delivery = Assert.Single(await DeliveriesAsync(host, account, id));
            Assert.Equal(id == poisoned ? "pending" : "succeeded", delivery.GetProperty("status").GetString());
        }

        Assert.Contains("\nhookline_results_dropped_total 1\n", await host.Platform.GetStringAsync("/metrics"), StringComparison.Ordinal);

        // Once the store takes it again, the delivery comes back when its lease runs out, is sent again and recorded.
        await ExecuteAsync(host, "DROP TRIGGER refuse_attempts");
        await receiver.WaitForAsync(6, TimeSpan.FromSeconds(20));
        Assert.Equal(poisoned, "evt_" + receiver.Requests[5].Header("X-Razorpay-Event-Id"));
        await Eventually.UntilAsync(
            async () => (await DeliveriesAsync(host, account, poisoned))[0].GetProperty("status").GetString(), s => s == "succeeded", what: "the refused delivery recorded");
        Assert.Equal(5, writer.Written);
    }

    private static async Task ExecuteAsync(HooklineHost host, string sql)
    {
        await using var connection = await host.OpenDatabaseAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<List<JsonElement>> DeliveriesAsync(HooklineHost host, TestAccount account, string eventId)
    {
        var json = await account.Test.GetFromJsonAsync<JsonElement>($"/v1/events/{eventId}");
        return [.. json.GetProperty("deliveries").EnumerateArray()];
    }
}
