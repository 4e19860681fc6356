using System.Diagnostics;
using Hookline.Core.Observability;

namespace Hookline.Core.Tests.Observability;

public sealed class ThreadCpuTimeTests
{
    [Fact]
    public void Counts_the_calling_threads_computing_and_no_more_than_the_time_that_passed()
    {
        Assert.True(OperatingSystem.IsLinux(), "the writer's CPU metric is for Linux; these tests run there");
        var wall = Stopwatch.StartNew();
        var start = ThreadCpuTime.Now()!.Value;

        var result = Work(30_000_000);

        var computed = ThreadCpuTime.Now()!.Value - start;
        wall.Stop();
        Assert.NotEqual(0UL, result);
        // A fixed amount of work costs CPU time whatever share of a core the thread got meanwhile.
        Assert.InRange(computed, TimeSpan.FromMilliseconds(5), wall.Elapsed + TimeSpan.FromMilliseconds(5));
    }

    [Fact]
    public void Another_threads_work_is_not_counted_while_this_one_waits_for_it()
    {
        var start = ThreadCpuTime.Now()!.Value;
        var otherComputed = TimeSpan.Zero;
        var other = new Thread(() =>
        {
            var otherStart = ThreadCpuTime.Now()!.Value;
            Assert.NotEqual(0UL, Work(60_000_000));
            otherComputed = ThreadCpuTime.Now()!.Value - otherStart;
        });
        other.Start();
        other.Join();

        // The other thread's work was real (a process-wide clock would count it here)...
        Assert.True(otherComputed > TimeSpan.FromMilliseconds(30), $"the other thread computed only {otherComputed}");
        // ...and the waiting thread's clock barely moved: starting and joining a thread.
        Assert.InRange(ThreadCpuTime.Now()!.Value - start, TimeSpan.Zero, TimeSpan.FromMilliseconds(10));
    }

    /// <summary>A fixed amount of arithmetic the JIT cannot remove: its result is used.</summary>
    private static ulong Work(int iterations)
    {
        var x = 1UL;
        for (var i = 0; i < iterations; i++)
        {
            x = (x * 6364136223846793005UL) + 1442695040888963407UL;
        }

        return x;
    }
}
