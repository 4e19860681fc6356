namespace Hookline.Cli.Bench;

/// <summary>
/// What the sink got against what Hookline acknowledged: for every accepted event and every webhook that should
/// have received it, lost (never arrived), duplicates (arrived more than once) and the ingest→received latency of
/// the first arrival. Arrivals of events never acknowledged (a request cut off by a crash) are counted apart.
/// </summary>
internal sealed record DeliveryAccount(long Expected, long Delivered, long Lost, long Duplicates, long Unacknowledged, Percentiles EndToEnd)
{
    public static DeliveryAccount Of(EventLedger ledger, Arrival[] arrivals, Func<int, bool> counted, int webhooksPerEvent)
    {
        var firsts = new Dictionary<(string, int), long>();
        long duplicates = 0, unacknowledged = 0;
        foreach (var arrival in arrivals)
        {
            if (!counted(arrival.Webhook))
            {
                continue;
            }

            if (!ledger.SentAt.ContainsKey(arrival.EventId))
            {
                unacknowledged++;
                continue;
            }

            if (!firsts.TryAdd((arrival.EventId, arrival.Webhook), arrival.At))
            {
                duplicates++;
            }
        }

        var latencies = firsts.Select(f => Ticks.Ms(f.Value - ledger.SentAt[f.Key.Item1]));
        var expected = ledger.Events * webhooksPerEvent;
        return new DeliveryAccount(expected, firsts.Count, Math.Max(0, expected - firsts.Count), duplicates, unacknowledged, Percentiles.Of(latencies));
    }
}
