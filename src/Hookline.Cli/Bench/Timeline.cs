using System.Diagnostics;

namespace Hookline.Cli.Bench;

/// <summary>One point of a run: seconds since its start, deliveries received by the sink, results recorded.</summary>
internal readonly record struct Sample(double Seconds, long Received, long? Recorded);

/// <summary>Samples the sink (and Hookline's recorded results) every 100 ms, for rates over any part of a run.</summary>
internal sealed class Timeline : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly List<Sample> _samples = [];
    private readonly Func<long> _received;
    private readonly Func<long?> _recorded;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampling;

    public Timeline(Func<long> received, Func<long?> recorded)
    {
        _received = received;
        _recorded = recorded;
        Started = Stopwatch.GetTimestamp();
        Take();
        _sampling = SampleAsync();
    }

    public long Started { get; }

    public double Now => Ticks.SinceSeconds(Started);

    public IReadOnlyList<Sample> Samples
    {
        get
        {
            lock (_gate)
            {
                return [.. _samples];
            }
        }
    }

    /// <summary>Received per second between two moments of the run (the samples nearest inside them).</summary>
    public double ReceivedRate(double from, double to) => Rate(from, to, s => s.Received);

    /// <summary>Recorded per second between two moments, or null when Hookline's results are not visible.</summary>
    public double? RecordedRate(double from, double to)
        => Samples.Any(s => s.Recorded is null) ? null : Rate(from, to, s => s.Recorded!.Value);

    /// <summary>Received per second in each whole second of the run.</summary>
    public IReadOnlyList<double> PerSecond()
    {
        var samples = Samples;
        var rates = new List<double>();
        for (var second = 0; second + 1 <= samples[^1].Seconds; second++)
        {
            rates.Add(ReceivedRate(second, second + 1));
        }

        return rates;
    }

    public Sample Take()
    {
        var sample = new Sample(Now, _received(), _recorded());
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

    private double Rate(double from, double to, Func<Sample, long> value)
    {
        var samples = Samples;
        var first = samples.FirstOrDefault(s => s.Seconds >= from);
        var last = samples.LastOrDefault(s => s.Seconds <= to);
        var seconds = last.Seconds - first.Seconds;
        return seconds <= 0 ? 0 : Math.Round((value(last) - value(first)) / seconds, 1);
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
