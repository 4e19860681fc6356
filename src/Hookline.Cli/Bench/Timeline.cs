using System.Diagnostics;
using System.Globalization;

namespace Hookline.Cli.Bench;

/// <summary>
/// One point of a run: seconds since its start, deliveries received by the sink, results recorded, and what the bench
/// process (with an in-process Hookline, its sink and load generator) has used so far: CPU seconds, garbage
/// collections and the time they paused its threads; and the CPU seconds the whole machine has used (every process:
/// PostgreSQL's server too), null where the kernel does not say (no <c>/proc/stat</c>).
/// </summary>
internal readonly record struct Sample(
    double Seconds, long Received, long? Recorded, double CpuSeconds, int Collections, int Gen2Collections, double GcPauseSeconds, long AllocatedBytes,
    double? MachineCpuSeconds);

/// <summary>
/// The bench process's garbage collections over part of a run: how many (of them gen2), their pauses in all, that as a
/// share of the time, and the bytes the process allocated per item the sink received (what drives the collections).
/// Every pause stops Hookline, the sink and the load generator's clock alike.
/// </summary>
internal sealed record GcLoad(int Collections, int Gen2, double PauseMs, double PauseShare, double AllocatedKbPerItem)
{
    public override string ToString()
        => string.Create(CultureInfo.InvariantCulture, $"{Collections:N0} ({Gen2:N0} gen2), {PauseMs:N0} ms ({PauseShare:P1}); {AllocatedKbPerItem:N1} KB allocated per event");
}

/// <summary>Samples the sink (and Hookline's recorded results) every 100 ms, for rates over any part of a run.</summary>
internal sealed class Timeline : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly List<Sample> _samples = [];
    private readonly Func<long> _received;
    private readonly Func<long?> _recorded;
    private readonly Func<long> _allocated;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampling;

    /// <param name="received">Deliveries the sink has received so far.</param>
    /// <param name="recorded">Results Hookline has recorded so far, or null when not visible.</param>
    /// <param name="allocated">Bytes the process has allocated so far (<see cref="AllocationTicks"/>); none when not given.</param>
    public Timeline(Func<long> received, Func<long?> recorded, Func<long>? allocated = null)
    {
        _received = received;
        _recorded = recorded;
        _allocated = allocated ?? (() => 0);
        Started = Stopwatch.GetTimestamp();
        Take();
        _sampling = SampleAsync();
    }

    public long Started { get; }

    public double Now => Ticks.SinceSeconds(Started);

    public IReadOnlyList<Sample> Samples => Snapshot();

    /// <summary>Received per second between two moments of the run (the samples nearest inside them).</summary>
    public double ReceivedRate(double from, double to) => Rate(from, to, s => s.Received);

    /// <summary>Recorded per second between two moments, or null when Hookline's results are not visible.</summary>
    public double? RecordedRate(double from, double to)
        => Samples.Any(s => s.Recorded is null) ? null : Rate(from, to, s => s.Recorded!.Value);

    /// <summary>
    /// CPU microseconds the whole process spent per delivery received between two moments: what a delivery
    /// costs, whatever share of the (shared) machine the process got meanwhile.
    /// </summary>
    public double CpuMicrosecondsPerItem(double from, double to)
    {
        var (first, last) = Between(from, to);
        var items = last.Received - first.Received;
        return items <= 0 ? 0 : Math.Round((last.CpuSeconds - first.CpuSeconds) * 1e6 / items, 1);
    }

    /// <summary>
    /// CPU microseconds the rest of the machine spent per delivery received between two moments: on PostgreSQL its
    /// server's processes (and whatever else ran, on a shared machine). Null without <c>/proc/stat</c>.
    /// </summary>
    public double? OtherCpuMicrosecondsPerItem(double from, double to)
    {
        var (first, last) = Between(from, to);
        var items = last.Received - first.Received;
        if (items <= 0 || first.MachineCpuSeconds is not { } machineFirst || last.MachineCpuSeconds is not { } machineLast)
        {
            return null;
        }

        var others = (machineLast - machineFirst) - (last.CpuSeconds - first.CpuSeconds);
        return Math.Round(Math.Max(0, others) * 1e6 / items, 1);
    }

    /// <summary>Cores the process used on average between two moments (of the machine's <see cref="Environment.ProcessorCount"/>).</summary>
    public double CoresUsed(double from, double to)
    {
        var (first, last) = Between(from, to);
        var seconds = last.Seconds - first.Seconds;
        return seconds <= 0 ? 0 : Math.Round((last.CpuSeconds - first.CpuSeconds) / seconds, 2);
    }

    /// <summary>The process's garbage collections between two moments (the samples nearest inside them).</summary>
    public GcLoad Gc(double from, double to)
    {
        var (first, last) = Between(from, to);
        var seconds = last.Seconds - first.Seconds;
        var pause = Math.Max(0, last.GcPauseSeconds - first.GcPauseSeconds);
        var items = last.Received - first.Received;
        return new GcLoad(
            Math.Max(0, last.Collections - first.Collections), Math.Max(0, last.Gen2Collections - first.Gen2Collections),
            Math.Round(pause * 1000, 1), seconds <= 0 ? 0 : Math.Round(pause / seconds, 4),
            items <= 0 ? 0 : Math.Round((last.AllocatedBytes - first.AllocatedBytes) / 1024.0 / items, 1));
    }

    public Sample Take()
    {
        var sample = new Sample(
            Now, _received(), _recorded(), Environment.CpuUsage.TotalTime.TotalSeconds,
            GC.CollectionCount(0), GC.CollectionCount(2), GC.GetTotalPauseDuration().TotalSeconds, _allocated(), MachineCpuSeconds());
        lock (_gate)
        {
            _samples.Add(sample);
        }

        return sample;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _sampling;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    /// <summary>
    /// CPU seconds every process on the machine has used since boot: the first line of <c>/proc/stat</c>, all but
    /// idle and I/O wait, in the kernel's clock ticks (100 a second on Linux).
    /// </summary>
    private static double? MachineCpuSeconds()
    {
        try
        {
            using var stat = new StreamReader("/proc/stat");
            var fields = stat.ReadLine()?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields is not { Length: > 8 } || fields[0] != "cpu")
            {
                return null;
            }

            long Field(int i) => long.Parse(fields[i], CultureInfo.InvariantCulture);
            // user, nice, system, idle, iowait, irq, softirq, steal: guests are already counted in user and nice.
            return (Field(1) + Field(2) + Field(3) + Field(6) + Field(7) + Field(8)) / 100.0;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private double Rate(double from, double to, Func<Sample, long> value)
    {
        var (first, last) = Between(from, to);
        var seconds = last.Seconds - first.Seconds;
        return seconds <= 0 ? 0 : Math.Round((value(last) - value(first)) / seconds, 1);
    }

    /// <summary>
    /// The samples nearest inside two moments of the run; the run's first and last when fewer than two fall inside
    /// (a phase of half a second, as the smoke run's, whose sampler the machine held up), so that a short phase reads
    /// as its whole length rather than as nothing at all.
    /// </summary>
    private (Sample First, Sample Last) Between(double from, double to)
    {
        var samples = Snapshot();
        var first = samples.FindIndex(s => s.Seconds >= from);
        var last = samples.FindLastIndex(s => s.Seconds <= to);
        return first >= 0 && last > first ? (samples[first], samples[last]) : (samples[0], samples[^1]);
    }

    private List<Sample> Snapshot()
    {
        lock (_gate)
        {
            return [.. _samples];
        }
    }

    private async Task SampleAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        while (await timer.WaitForNextTickAsync(_stop.Token))
        {
            Take();
        }
    }
}
