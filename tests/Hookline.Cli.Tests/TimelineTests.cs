using Hookline.Cli.Bench;

namespace Hookline.Cli.Tests;

/// <summary>The bench's rates over part of a run, from samples taken every 100 ms.</summary>
public sealed class TimelineTests
{
    [Fact]
    public async Task A_window_holding_fewer_than_two_samples_reads_as_the_whole_run_not_as_zero()
    {
        long received = 0;
        var timeline = new Timeline(() => Interlocked.Read(ref received), () => null);
        Interlocked.Add(ref received, 1000);
        var end = timeline.Take().Seconds;

        // Stopped, so that no sample the sampler takes later moves the run's last one under the assertion.
        await timeline.DisposeAsync();
        var samples = timeline.Samples;

        // Only the sample taken at `end` lies in [end, end]: a short phase whose sampler was held up looks like that.
        var rate = timeline.ReceivedRate(end, end);

        Assert.Equal(Math.Round((samples[^1].Received - samples[0].Received) / (samples[^1].Seconds - samples[0].Seconds), 1), rate);
        Assert.True(rate > 0);
    }

    [Fact]
    public async Task A_window_with_samples_inside_reads_from_the_nearest_ones_inside()
    {
        long received = 0;
        await using var timeline = new Timeline(() => Interlocked.Read(ref received), () => null);
        Interlocked.Add(ref received, 500);
        var middle = timeline.Take().Seconds;
        Interlocked.Add(ref received, 300);
        var end = timeline.Take().Seconds;

        // From the sample at `middle` (500) to the one at `end` (800): the first half's 500 are not in it.
        var samples = timeline.Samples;
        var first = samples.First(s => s.Seconds >= middle);
        var last = samples.Last(s => s.Seconds <= end);
        Assert.Equal(Math.Round((last.Received - first.Received) / (last.Seconds - first.Seconds), 1), timeline.ReceivedRate(middle, end));
        Assert.True(last.Received - first.Received <= 300);
    }
}
