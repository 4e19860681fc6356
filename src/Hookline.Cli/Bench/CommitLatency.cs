using System.Globalization;

namespace Hookline.Cli.Bench;

/// <summary>
/// How the store's ingestion commits went, read from Hookline's own <c>/metrics</c> histogram
/// (<c>hookline_ingest_commit_duration_seconds</c>): how many took over 5 ms and over 50 ms, and the bucket
/// the slowest fell in. Set beside S2's ack latency it tells a slow disk (the commit itself stalled: fsync)
/// from queueing elsewhere (commits fast, acks slow).
/// </summary>
internal sealed record CommitLatency(long Commits, long Over5Ms, long Over50Ms, string SlowestBucket)
{
    private const string Series = "hookline_ingest_commit_duration_seconds_bucket{le=\"";

    public static async Task<CommitLatency?> ReadAsync(Uri hookline)
    {
        try
        {
            using var http = new HttpClient { BaseAddress = hookline, Timeout = TimeSpan.FromSeconds(10) };
            return Parse(await http.GetStringAsync("/metrics"));
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>Cumulative buckets to the three figures; null when the histogram is absent.</summary>
    public static CommitLatency? Parse(string metrics)
    {
        var buckets = new List<(string Bound, long Count)>();
        foreach (var line in metrics.Split('\n'))
        {
            if (line.StartsWith(Series, StringComparison.Ordinal))
            {
                var end = line.IndexOf('"', Series.Length);
                buckets.Add((line[Series.Length..end], long.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture)));
            }
        }

        if (buckets.Count == 0 || buckets[^1].Bound != "+Inf")
        {
            return null;
        }

        var total = buckets[^1].Count;
        long Under(string bound) => buckets.FirstOrDefault(b => b.Bound == bound).Count;
        var slowest = buckets.FirstOrDefault(b => b.Count == total).Bound ?? "+Inf";
        return new CommitLatency(total, total - Under("0.005"), total - Under("0.05"), slowest == "+Inf" ? "> 10 s" : $"≤ {slowest} s");
    }

    public override string ToString() => $"{Over5Ms:N0} / {Over50Ms:N0} of {Commits:N0}, slowest {SlowestBucket}";
}
