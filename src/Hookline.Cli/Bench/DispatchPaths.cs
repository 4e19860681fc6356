using System.Diagnostics;
using System.Globalization;

namespace Hookline.Cli.Bench;

/// <summary>
/// How the worker took its deliveries over a window of a steady phase, from Hookline's
/// <c>hookline_dispatcher_granted_total</c> (handed over by ingestion, no lease round) and
/// <c>hookline_dispatcher_leased_total</c> (by lease rounds), read at both ends. On PostgreSQL a delivery that takes a
/// lease round costs its server several times what a granted one does (docs/benchmarks.md), so the share tells a run
/// whose lanes stayed <i>owing</i> from one whose did not.
/// </summary>
internal sealed record DispatchPaths(double Seconds, long Granted, long Leased)
{
    private const string GrantedSeries = "hookline_dispatcher_granted_total ";
    private const string LeasedSeries = "hookline_dispatcher_leased_total ";

    /// <summary>The share of the window's deliveries that lease rounds brought; null when there were none.</summary>
    public double? LeasedShare => Granted + Leased > 0 ? (double)Leased / (Granted + Leased) : null;

    /// <summary>Reads the counters <paramref name="from"/> and <paramref name="to"/> after now; the load runs meanwhile.</summary>
    public static async Task<DispatchPaths?> MeasureAsync(Uri hookline, TimeSpan from, TimeSpan to)
    {
        var started = Stopwatch.GetTimestamp();
        await Task.Delay(from);
        var first = Parse(await CommitLatency.ScrapeAsync(hookline));
        var firstAt = Stopwatch.GetTimestamp();
        var wait = to - Stopwatch.GetElapsedTime(started);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }

        var second = Parse(await CommitLatency.ScrapeAsync(hookline));
        return first is { } a && second is { } b ? new DispatchPaths(Math.Round(Ticks.SinceSeconds(firstAt), 2), b.Granted - a.Granted, b.Leased - a.Leased) : null;
    }

    /// <summary>Both counters from one scrape; null when either is absent or the scrape failed.</summary>
    public static (long Granted, long Leased)? Parse(string? metrics)
        => Value(metrics, GrantedSeries) is { } granted && Value(metrics, LeasedSeries) is { } leased ? (granted, leased) : null;

    private static long? Value(string? metrics, string series)
        => metrics?.Split('\n').FirstOrDefault(line => line.StartsWith(series, StringComparison.Ordinal)) is { } line
            ? (long)double.Parse(line[series.Length..], CultureInfo.InvariantCulture)
            : null;
}
