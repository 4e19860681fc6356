namespace Hookline.Cli.Bench;

/// <summary>Exact percentiles of a sample, in milliseconds (the samples are few enough to sort).</summary>
internal sealed record Percentiles(long Count, double P50Ms, double P99Ms, double MaxMs)
{
    public static readonly Percentiles Empty = new(0, 0, 0, 0);

    public static Percentiles Of(IEnumerable<double> milliseconds)
    {
        var sorted = milliseconds.Where(double.IsFinite).Select(m => Math.Max(0, m)).ToArray();
        if (sorted.Length == 0)
        {
            return Empty;
        }

        Array.Sort(sorted);
        return new Percentiles(sorted.Length, Round(At(sorted, 0.50)), Round(At(sorted, 0.99)), Round(sorted[^1]));
    }

    private static double At(double[] sorted, double quantile)
        => sorted[Math.Clamp((int)Math.Ceiling(quantile * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static double Round(double value) => Math.Round(value, 2);
}

/// <summary>A thread-safe bag of latency samples in milliseconds.</summary>
internal sealed class LatencySamples
{
    private readonly Lock _gate = new();
    private readonly List<double> _samples = [];

    public void Add(double milliseconds)
    {
        lock (_gate)
        {
            _samples.Add(milliseconds);
        }
    }

    public long Count
    {
        get
        {
            lock (_gate)
            {
                return _samples.Count;
            }
        }
    }

    public long CountOver(double milliseconds)
    {
        lock (_gate)
        {
            return _samples.Count(s => s > milliseconds);
        }
    }

    public Percentiles Summary()
    {
        lock (_gate)
        {
            return Percentiles.Of(_samples);
        }
    }
}
