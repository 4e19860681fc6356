namespace Hookline.Cli.Bench;

/// <summary>
/// The targets of issue 7, checked against one store's figures. A figure that was not measured is not checked. Ratios
/// are kept unrounded so that the verdict is the ratio's own: rounded to three places, a PostgreSQL S1 of 29.98 % of S0
/// read 0.300 and was called met.
/// </summary>
internal static class Targets
{
    public static IEnumerable<TargetCheck> Check(StoreReport report)
    {
        var store = report.Store;
        var sqlite = store == "sqlite";
        if (report.S1?.RatioToS0 is { } s1Ratio)
        {
            var floor = sqlite ? 0.5 : 0.3;
            yield return new(store, "S1", "deliveries/s ÷ S0", s1Ratio, $"≥ {floor:0.0}", s1Ratio >= floor);
        }

        foreach (var s2 in report.S2 ?? [])
        {
            if (s2.Rate == 1000)
            {
                yield return new(store, "S2 1k/s", "ack p99 ms", s2.Ack.P99Ms, "≤ 5", s2.Ack.P99Ms <= 5);
                yield return new(store, "S2 1k/s", "ingest→received p99 ms", s2.EndToEnd.P99Ms, "≤ 20", s2.EndToEnd.P99Ms <= 20);
            }
            else if (s2.Rate == 5000)
            {
                yield return new(store, "S2 5k/s", "ingest→received p99 ms", s2.EndToEnd.P99Ms, "≤ 50", s2.EndToEnd.P99Ms <= 50);
            }
        }

        if (report.S3?.FirstOrDefault(f => f.Webhooks == 100) is { RatioToS1: { } s3Ratio })
        {
            yield return new(store, "S3 x100", "deliveries/s ÷ S1", s3Ratio, "≥ 0.9", s3Ratio >= 0.9);
        }

        if (report.S4 is { } s4)
        {
            if (s4.RatioToS1 is { } s4Ratio)
            {
                yield return new(store, "S4", "healthy deliveries/s ÷ S1", s4Ratio, "≥ 0.9", s4Ratio >= 0.9);
            }

            if (s4.P99RatioToS1 is { } p99Ratio)
            {
                yield return new(store, "S4", "healthy p99 ÷ S1 p99", p99Ratio, "≤ 2", p99Ratio <= 2);
            }
        }

        if (report.S5 is { } s5)
        {
            yield return new(store, "S5", "peak RSS MB", s5.PeakRssMb, "≤ 300", s5.PeakRssMb <= 300);
            if (s5.RatioToS1 is { } drainRatio)
            {
                yield return new(store, "S5", "drain/s ÷ S1", drainRatio, "≥ 0.8", drainRatio >= 0.8);
            }
        }

        if (report.S6 is { } s6)
        {
            yield return new(store, "S6", "lost", s6.Lost, "0", s6.Lost == 0);
            yield return new(store, "S6", "s back to full speed", s6.SecondsBackToFullSpeed ?? -1, "≤ 5", s6.SecondsBackToFullSpeed is <= 5);
        }
    }
}
