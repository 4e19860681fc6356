using Hookline.Core.Delivery;
using Hookline.Server.Tests.Infrastructure;

namespace Hookline.Server.Tests.Deliveries;

public sealed class BackpressureTests
{
    [Fact]
    public async Task Results_the_store_cannot_write_yet_count_as_held_work_so_the_worker_takes_no_more()
    {
        // MaxConcurrency 2: the worker holds at most two rounds, four deliveries, waiting, running or unrecorded.
        await using var host = await HooklineHost.StartAsync(new Dictionary<string, string?> { ["Delivery:MaxConcurrency"] = "2" });
        var answer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var receiver = await TestReceiver.StartAsync(async (_, context) => await answer.Task.WaitAsync(context.RequestAborted));
        var account = await host.CreateAccountAsync();
        await account.CreateWebhookAsync(receiver.Url.ToString());
        var dispatcher = host.Get<Dispatcher>();
        var writer = host.Get<CompletionWriter>();
        for (var i = 0; i < 4; i++)
        {
            await host.PublishAsync(account.Id);
        }

        await receiver.WaitForAsync(2);

        // Another connection takes SQLite's write lock: the store cannot record anything until it lets go.
        await using var blocker = await host.OpenDatabaseAsync();
        await using (var begin = blocker.CreateCommand())
        {
            begin.CommandText = "BEGIN IMMEDIATE";
            await begin.ExecuteNonQueryAsync();
        }

        answer.SetResult();
        await receiver.WaitForAsync(4);
        await Eventually.UntilAsync(() => Task.FromResult(writer.Unwritten), n => n == 4, what: "four results waiting to be written");

        // Every attempt is over, but their results are not on disk: the worker offers no room to new work.
        Assert.Null(dispatcher.GrantForIngestion());

        await using (var rollback = blocker.CreateCommand())
        {
            rollback.CommandText = "ROLLBACK";
            await rollback.ExecuteNonQueryAsync();
        }

        await Eventually.UntilAsync(() => Task.FromResult(writer.Unwritten), n => n == 0, what: "results written once the lock is gone");
        Assert.Equal(4, Assert.IsType<Hookline.Core.Events.LeaseGrant>(dispatcher.GrantForIngestion()).MaxDeliveries);
        Assert.Equal(4, writer.Written);
    }
}
