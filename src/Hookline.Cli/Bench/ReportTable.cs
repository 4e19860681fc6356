using System.Globalization;
using System.Text;

namespace Hookline.Cli.Bench;

/// <summary>The table printed at the end: one column per store, then every target with its verdict.</summary>
internal static class ReportTable
{
    public static string Render(BenchReport report)
    {
        var stores = report.Stores;
        var rows = Rows(stores).ToList();
        var header = new[] { "scenario", "figure" }.Concat(stores.Select(s => s.Available ? s.Store : $"{s.Store} (unavailable)")).ToArray();
        var cells = rows.Select(r => new[] { r.Scenario, r.Figure }.Concat(stores.Select(s => r.Value(s) ?? "—")).ToArray()).ToList();
        var widths = Enumerable.Range(0, header.Length).Select(i => cells.Select(c => c[i].Length).Append(header[i].Length).Max()).ToArray();

        var text = new StringBuilder();
        text.AppendLine(Line(header, widths));
        text.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var row in cells)
        {
            text.AppendLine(Line(row, widths));
        }

        text.AppendLine();
        foreach (var check in report.Targets)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{(check.Met ? "met   " : "MISSED")}  {check.Store,-8} {check.Scenario,-8} {check.Figure,-28} {N(check.Value, check.Value < 10 ? 4 : 2),10}  target {check.Target}");
        }

        foreach (var store in stores)
        {
            foreach (var (scenario, error) in store.Errors)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"error   {store.Store,-8} {scenario,-8} {error}");
            }
        }

        return text.ToString();
    }

    private static string Line(string[] cells, int[] widths)
        => string.Join("  ", cells.Select((c, i) => i < 2 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))).TrimEnd();

    private static IEnumerable<(string Scenario, string Figure, Func<StoreReport, string?> Value)> Rows(IReadOnlyList<StoreReport> stores)
    {
        yield return ("S0", "raw POSTs/s (before, after)", s => s.S0 is { } r ? $"{N(r.RequestsPerSecond)} ({N(r.BeforePerSecond)}, {N(r.AfterPerSecond)})" : null);
        yield return ("S0", "POST latency p50/p99 ms", s => s.S0 is { } r ? Pair(r.Latency) : null);
        yield return ("S0", "CPU µs per request (cores used)", s => s.S0 is { } r ? $"{N(r.CpuMicrosecondsPerRequest)} ({N(r.CoresUsed, 2)})" : null);
        yield return ("S1", "deliveries/s", s => s.S1 is { } r ? N(r.DeliveriesPerSecond) : null);
        yield return ("S1", "÷ S0", s => s.S1?.RatioToS0 is { } v ? Pct(v) : null);
        yield return ("S1", "CPU µs per delivery (cores used)", s => s.S1 is { } r ? $"{N(r.CpuMicrosecondsPerDelivery)} ({N(r.CoresUsed, 2)})" : null);
        yield return ("S1", "CPU µs per delivery elsewhere on the machine", s => s.S1?.OtherCpuMicrosecondsPerDelivery is { } other ? N(other) : null);
        yield return ("S1", "SQLite writer busy (by work, %)", s => s.S1?.Writer?.ToString());
        yield return ("S1", "CPU µs per delivery: SQLite writer, the rest", s => s.S1 is { } r && r.Writer?.CpuMicrosecondsPerItem(r.DeliveriesPerSecond) is { } writer
            ? $"{N(writer)}, {N(r.CpuMicrosecondsPerDelivery - writer)}"
            : null);
        yield return ("S1", "ingestion alone (no webhook): events/s, CPU µs per event (writer's)", s => s.S1Ingestion is { } i
            ? $"{N(i.EventsPerSecond)}, {N(i.CpuMicrosecondsPerEvent)} ({(i.WriterCpuMicrosecondsPerEvent is { } w ? N(w) : "—")})"
            : null);
        yield return ("S1", "CPU µs per delivery: ingestion, the POST (S0), the rest", s => s is { S1: { } r, S0: { } p, S1Ingestion: { } i }
            ? $"{N(i.CpuMicrosecondsPerEvent)}, {N(p.CpuMicrosecondsPerRequest)}, {N(r.CpuMicrosecondsPerDelivery - i.CpuMicrosecondsPerEvent - p.CpuMicrosecondsPerRequest)}"
            : null);
        yield return ("S1", "deliveries taken by lease rounds (the rest from ingestion grants)", s => s.S1?.Paths?.LeasedShare is { } v
            ? $"{Pct(v)} ({N(s.S1.Paths.Leased)} of {N(s.S1.Paths.Granted + s.S1.Paths.Leased)})"
            : null);
        yield return ("S1", "ack p50/p99 ms (batch)", s => s.S1 is { } r ? Pair(r.Ack) : null);
        yield return ("S1", "ingest→received p50/p99 ms", s => s.S1 is { } r ? Pair(r.EndToEnd) : null);
        yield return ("S1", "lost / duplicates", s => s.S1 is { } r ? $"{r.Lost} / {r.Duplicates}" : null);
        foreach (var (label, what, of) in new (string, string, Func<StoreReport, FloorResult?>)[]
                 {
                     ("S1 floor", "minimal durable forwarder", s => s.S1Floor),
                     ("S1 floor, records", "the same, keeping indexed event and delivery rows", s => s.S1FloorRecords),
                 })
        {
            yield return (label, $"{what}: deliveries/s (÷ its own S0's)", s => of(s) is { } f
                ? $"{N(f.DeliveriesPerSecond)} ({(f.RatioToS0 is { } v ? Pct(v) : "—")} of {(f.S0PerSecond is { } s0 ? N(s0) : "—")})"
                : null);
            yield return (label, "CPU µs per delivery (cores used), elsewhere; lost / duplicates", s => of(s) is { } f
                ? $"{N(f.CpuMicrosecondsPerDelivery)} ({N(f.CoresUsed, 2)}), {(f.OtherCpuMicrosecondsPerDelivery is { } o ? N(o) : "—")}; {f.Lost} / {f.Duplicates}"
                : null);
            yield return (label, "S1 ÷ this floor", s => of(s)?.S1RatioToFloor is { } v ? Pct(v) : null);
        }

        foreach (var rate in stores.SelectMany(s => s.S2 ?? []).Select(r => r.Rate).Distinct())
        {
            LatencyResult? At(StoreReport s) => s.S2?.FirstOrDefault(r => r.Rate == rate);
            yield return ($"S2 {rate}/s", "achieved events/s", s => At(s) is { } r ? N(r.AchievedPerSecond) : null);
            yield return ($"S2 {rate}/s", "ack p50/p99/max ms", s => At(s) is { } r ? Triple(r.Ack) : null);
            yield return ($"S2 {rate}/s", "ingest→received p50/p99/max ms", s => At(s) is { } r ? Triple(r.EndToEnd) : null);
            yield return ($"S2 {rate}/s", "load generator late p50/p99/max ms (in both)", s => At(s) is { } r ? Triple(r.Lateness) : null);
            yield return ($"S2 {rate}/s", "CPU µs per event (cores used)", s => At(s) is { } r ? $"{N(r.CpuMicrosecondsPerEvent)} ({N(r.CoresUsed, 2)})" : null);
            yield return ($"S2 {rate}/s", "cold start: first s, ack / ingest→received p99 ms", s => At(s)?.ColdStart is { } c ? $"{N(c.Seconds, 1)} s: {N(c.Ack.P99Ms, 1)} / {N(c.EndToEnd.P99Ms, 1)}" : null);
            yield return ($"S2 {rate}/s", "acks > 5 ms (cold start and steady)", s => At(s)?.SlowAcks is { } a ? $"{N(a.Over5Ms)} of {N(a.Acks)}" : null);
            yield return ($"S2 {rate}/s", "ingestion commits > 5 / > 50 ms", s => At(s)?.StoreCommits?.ToString());
            yield return ($"S2 {rate}/s", "SQLite commits (fsync) > 5 / > 50 ms", s => At(s)?.SqliteCommits?.ToString());
            yield return ($"S2 {rate}/s", "SQLite writer busy (by work, %)", s => At(s)?.Writer?.ToString());
            yield return ($"S2 {rate}/s", "GC: collections (gen2), pauses (share); allocated", s => At(s)?.Gc?.ToString());
        }

        foreach (var webhooks in stores.SelectMany(s => s.S3 ?? []).Select(r => r.Webhooks).Distinct())
        {
            FanOutResult? At(StoreReport s) => s.S3?.FirstOrDefault(r => r.Webhooks == webhooks);
            yield return ($"S3 x{webhooks}", "deliveries/s (÷ S1)", s => At(s) is { } r ? $"{N(r.DeliveriesPerSecond)} ({(r.RatioToS1 is { } v ? Pct(v) : "—")})" : null);
            yield return ($"S3 x{webhooks}", "ack p50/p99 ms", s => At(s) is { } r ? Pair(r.Ack) : null);
        }

        yield return ("S4", "healthy deliveries/s (÷ S1)", s => s.S4 is { } r ? $"{N(r.HealthyDeliveriesPerSecond)} ({(r.RatioToS1 is { } v ? Pct(v) : "—")})" : null);
        yield return ("S4", "healthy p99 ms (÷ S1 p99)", s => s.S4 is { } r ? $"{N(r.HealthyEndToEnd.P99Ms, 1)} ({(r.P99RatioToS1 is { } v ? N(v, 2) + "×" : "—")})" : null);
        yield return ("S4", "healthy ingest→received p50 ms; ack p50/p99 ms", s => s.S4 is { } r ? $"{N(r.HealthyEndToEnd.P50Ms, 1)}; {Pair(r.Ack)}" : null);
        yield return ("S5", "queued (ingest events/s)", s => s.S5 is { } r ? $"{N(r.Deliveries)} ({N(r.IngestEventsPerSecond)})" : null);
        yield return ("S5", "drain/s (÷ S1)", s => s.S5 is { } r ? $"{N(r.DrainPerSecond)} ({(r.RatioToS1 is { } v ? Pct(v) : "—")})" : null);
        yield return ("S5", "peak RSS MB (queue, drain)", s => s.S5 is { } r ? $"{N(r.PeakRssMb)} ({N(r.PeakRssIngestMb)}, {N(r.PeakRssDrainMb)})" : null);
        yield return ("S6", "lost / duplicates", s => s.S6 is { } r ? $"{r.Lost} / {r.Duplicates}" : null);
        yield return ("S6", "restart / full speed s", s => s.S6 is { } r ? $"{N(r.RestartSeconds, 1)} / {(r.SecondsBackToFullSpeed is { } v ? N(v, 1) : "never")}" : null);
    }

    private static string N(double value, int decimals = 0) => value.ToString(decimals == 0 ? "N0" : "N" + decimals, CultureInfo.InvariantCulture);

    private static string Pct(double ratio) => (ratio * 100).ToString("0", CultureInfo.InvariantCulture) + " %";

    private static string Pair(Percentiles p) => $"{N(p.P50Ms, 1)} / {N(p.P99Ms, 1)}";

    private static string Triple(Percentiles p) => $"{N(p.P50Ms, 1)} / {N(p.P99Ms, 1)} / {N(p.MaxMs, 1)}";
}
