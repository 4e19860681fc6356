using System.Globalization;

namespace Hookline.Cli.Bench;

/// <summary>
/// How busy SQLite's single writer was over a window of a steady phase, from Hookline's
/// <c>hookline_sqlite_writer_busy_seconds_total</c> read at both ends: the share of the window it spent, in all
/// and by work (ingest, lease, results, commit, other). Near 100 % every write queues behind the others, so this
/// tells a store-bound run from a CPU-bound one. <see cref="Cpu"/> is the share of the window the writer's thread
/// spent computing (<c>hookline_sqlite_writer_cpu_seconds_total</c>; null off Linux): the rest of its busy time it
/// waited, for an fsync or for a core. Null on PostgreSQL, which has no single writer.
/// </summary>
internal sealed record WriterLoad(double Seconds, double Busy, IReadOnlyDictionary<string, double> ByWork, double? Cpu)
{
    private const string Series = "hookline_sqlite_writer_busy_seconds_total{work=\"";
    private const string CpuSeries = "hookline_sqlite_writer_cpu_seconds_total ";

    /// <summary>Reads the counters <paramref name="from"/> and <paramref name="to"/> after now; the load runs meanwhile.</summary>
    public static async Task<WriterLoad?> MeasureAsync(Uri hookline, TimeSpan from, TimeSpan to)
        => From(await MetricsWindow.MeasureAsync(hookline, from, to));

    /// <summary>The writer's load over <paramref name="window"/>; null when its series are absent (PostgreSQL) or a scrape failed.</summary>
    public static WriterLoad? From(MetricsWindow window)
    {
        var seconds = window.Seconds;
        if (Parse(window.First) is not { } first || Parse(window.Second) is not { } second || seconds <= 0)
        {
            return null;
        }

        var byWork = second.ToDictionary(w => w.Key, w => Math.Round((w.Value - first.GetValueOrDefault(w.Key)) / seconds, 3));
        double? cpu = CpuSeconds(window.First) is { } cpuFirst && CpuSeconds(window.Second) is { } cpuSecond ? Math.Round((cpuSecond - cpuFirst) / seconds, 3) : null;
        return new WriterLoad(Math.Round(seconds, 2), Math.Round(byWork.Values.Sum(), 3), byWork, cpu);
    }

    /// <summary>The writer's CPU microseconds per item at <paramref name="itemsPerSecond"/>; null without <see cref="Cpu"/>.</summary>
    public double? CpuMicrosecondsPerItem(double itemsPerSecond)
        => Cpu is { } cpu && itemsPerSecond > 0 ? Math.Round(cpu / itemsPerSecond * 1e6, 1) : null;

    /// <summary>The writer's CPU seconds from one scrape; null when the series is absent (off Linux, PostgreSQL).</summary>
    public static double? CpuSeconds(string? metrics) => MetricsWindow.Value(metrics, CpuSeries);

    /// <summary>Seconds by work from one scrape; null when the series is absent (PostgreSQL) or the scrape failed.</summary>
    public static Dictionary<string, double>? Parse(string? metrics)
    {
        if (metrics is null)
        {
            return null;
        }

        var byWork = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in metrics.Split('\n'))
        {
            if (line.StartsWith(Series, StringComparison.Ordinal))
            {
                var end = line.IndexOf('"', Series.Length);
                byWork[line[Series.Length..end]] = double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return byWork.Count == 0 ? null : byWork;
    }

    public override string ToString()
        => $"{Busy * 100:0} % ({string.Join(", ", ByWork.OrderByDescending(w => w.Value).Select(w => $"{w.Key} {w.Value * 100:0}"))}){(Cpu is { } cpu ? $"; CPU {cpu * 100:0} %" : "")}";
}
