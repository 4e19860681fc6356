using System.Diagnostics;
using System.Globalization;

namespace Hookline.Cli.Bench;

/// <summary>
/// Hookline's <c>/metrics</c> read at both ends of a window of a steady phase (<see cref="Seconds"/> apart), for the
/// counters whose difference over it is a figure (<see cref="WriterLoad"/>, <see cref="DispatchPaths"/>). A failed
/// scrape is null.
/// </summary>
internal sealed record MetricsWindow(string? First, string? Second, double Seconds)
{
    /// <summary>Scrapes <paramref name="from"/> and <paramref name="to"/> after now; the load runs meanwhile.</summary>
    public static async Task<MetricsWindow> MeasureAsync(Uri hookline, TimeSpan from, TimeSpan to)
    {
        var started = Stopwatch.GetTimestamp();
        await Task.Delay(from);
        var first = await CommitLatency.ScrapeAsync(hookline);
        var firstAt = Stopwatch.GetTimestamp();
        var wait = to - Stopwatch.GetElapsedTime(started);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }

        var second = await CommitLatency.ScrapeAsync(hookline);
        return new MetricsWindow(first, second, Ticks.SinceSeconds(firstAt));
    }

    /// <summary>The value of an unlabelled <paramref name="series"/> (its name and a space) in one scrape; null when absent.</summary>
    public static double? Value(string? metrics, string series)
        => metrics?.Split('\n').FirstOrDefault(line => line.StartsWith(series, StringComparison.Ordinal)) is { } line
            ? double.Parse(line[series.Length..], CultureInfo.InvariantCulture)
            : null;
}
