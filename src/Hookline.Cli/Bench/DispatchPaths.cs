namespace Hookline.Cli.Bench;

/// <summary>
/// How the worker took its deliveries over a window of a steady phase, from Hookline's
/// <c>hookline_dispatcher_granted_total</c> (handed over by ingestion, no lease round) and
/// <c>hookline_dispatcher_leased_total</c> (by lease rounds), read at both ends (<see cref="MetricsWindow"/>). On PostgreSQL a delivery that takes a
/// lease round costs its server several times what a granted one does (docs/benchmarks.md), so the share tells a run
/// whose lanes stayed <i>owing</i> from one whose did not.
/// </summary>
internal sealed record DispatchPaths(double Seconds, long Granted, long Leased)
{
    private const string GrantedSeries = "hookline_dispatcher_granted_total ";
    private const string LeasedSeries = "hookline_dispatcher_leased_total ";

    /// <summary>The share of the window's deliveries that lease rounds brought; null when there were none.</summary>
    public double? LeasedShare => Granted + Leased > 0 ? (double)Leased / (Granted + Leased) : null;

    /// <summary>The two counters' growth over <paramref name="window"/>; null when either is absent or a scrape failed.</summary>
    public static DispatchPaths? From(MetricsWindow window)
        => Parse(window.First) is { } a && Parse(window.Second) is { } b
            ? new DispatchPaths(Math.Round(window.Seconds, 2), b.Granted - a.Granted, b.Leased - a.Leased)
            : null;

    /// <summary>Both counters from one scrape; null when either is absent or the scrape failed.</summary>
    public static (long Granted, long Leased)? Parse(string? metrics)
        => MetricsWindow.Value(metrics, GrantedSeries) is { } granted && MetricsWindow.Value(metrics, LeasedSeries) is { } leased
            ? ((long)granted, (long)leased)
            : null;
}
