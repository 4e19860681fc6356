using System.Diagnostics;
using Hookline.Core.Observability;

namespace Hookline.Core.Tests.Observability;

public sealed class ThreadCpuTimeTests
{
    [Fact]
    public void Counts_the_calling_threads_computing_and_not_its_sleeping()
    {
        Assert.True(OperatingSystem.IsLinux(), "the writer's CPU metric is for Linux; these tests run there");
        var start = ThreadCpuTime.Now()!.Value;

        // Compute for 200 ms of wall time: on a shared machine the thread gets some share of that as CPU.
        var spin = Stopwatch.StartNew();
        var x = 0UL;
        while (spin.ElapsedMilliseconds < 200)
        {
            x = (x * 6364136223846793005UL) + 1442695040888963407UL;
        }

        var computed = ThreadCpuTime.Now()!.Value - start;
        Thread.Sleep(300);
        var slept = ThreadCpuTime.Now()!.Value - start - computed;

        Assert.NotEqual(0UL, x);
        Assert.InRange(computed, TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(250));
        Assert.InRange(slept, TimeSpan.Zero, TimeSpan.FromMilliseconds(30));
    }

    [Fact]
    public void Another_threads_work_is_not_counted()
    {
        var start = ThreadCpuTime.Now()!.Value;
        var other = new Thread(() =>
        {
            var spin = Stopwatch.StartNew();
            while (spin.ElapsedMilliseconds < 200)
            {
                Thread.SpinWait(100);
            }
        });
        other.Start();
        other.Join();

        Assert.InRange(ThreadCpuTime.Now()!.Value - start, TimeSpan.Zero, TimeSpan.FromMilliseconds(30));
    }
}
