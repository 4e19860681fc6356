using System.Globalization;

namespace Hookline.Cli.Bench;

/// <summary>
/// How a duration histogram of Hookline's own <c>/metrics</c> went: how many took over 5 ms and over 50 ms,
/// and the bucket the slowest fell in. S2 reads two: the store's ingestion commits (what a 201 waits for) and,
/// on SQLite, the commits themselves (WAL append and fsync). Set beside the ack latency they tell a slow disk
/// (the fsync stalled) from queueing in the store's writer (commits fast, ingestions slow) and from
/// queueing before the store (both fast, acks slow).
/// </summary>
internal sealed record CommitLatency(long Commits, long Over5Ms, long Over50Ms, string SlowestBucket)
{
    public const string Ingestion = "hookline_ingest_commit_duration_seconds";

    /// <summary>SQLite's own commits (WAL append and fsync), ingestion and results alike; absent on PostgreSQL.</summary>
    public const string SqliteCommits = "hookline_sqlite_commit_duration_seconds";

    public static async Task<string?> ScrapeAsync(Uri hookline)
    {
        try
        {
            using var http = new HttpClient { BaseAddress = hookline, Timeout = TimeSpan.FromSeconds(10) };
            return await http.GetStringAsync("/metrics");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>Cumulative buckets of <paramref name="histogram"/> to the three figures; null when it is absent.</summary>
    public static CommitLatency? Parse(string? metrics, string histogram)
    {
        if (metrics is null)
        {
            return null;
        }

        var series = histogram + "_bucket{le=\"";
        var buckets = new List<(string Bound, long Count)>();
        foreach (var line in metrics.Split('\n'))
        {
            if (line.StartsWith(series, StringComparison.Ordinal))
            {
                var end = line.IndexOf('"', series.Length);
                buckets.Add((line[series.Length..end], long.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture)));
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
