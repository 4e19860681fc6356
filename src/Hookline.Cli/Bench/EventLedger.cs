using System.Collections.Concurrent;

namespace Hookline.Cli.Bench;

/// <summary>
/// What the load generator got acknowledged: every accepted event id with the moment its request was sent
/// (or was due, for the fixed-rate load), and the requests that failed or were cut off.
/// </summary>
internal sealed class EventLedger(bool trackIds = true)
{
    private readonly ConcurrentDictionary<string, long> _sentAt = new(StringComparer.Ordinal);
    private long _events;
    private long _deliveries;
    private long _requests;
    private long _ambiguous;
    private long _refused;

    public long Events => Interlocked.Read(ref _events);

    /// <summary>Deliveries the accepted events created (every subscribed, enabled webhook).</summary>
    public long Deliveries => Interlocked.Read(ref _deliveries);

    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Requests that got no answer (connection reset, timeout): their events may or may not exist.</summary>
    public long Ambiguous => Interlocked.Read(ref _ambiguous);

    /// <summary>Requests answered with something other than 201.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    public IReadOnlyDictionary<string, long> SentAt => _sentAt;

    public void Accept(Accepted accepted, long sentAt)
    {
        if (trackIds)
        {
            foreach (var id in accepted.EventIds)
            {
                _sentAt[id] = sentAt;
            }
        }

        Interlocked.Add(ref _deliveries, accepted.Deliveries);
        Interlocked.Add(ref _events, accepted.EventIds.Count);
        Interlocked.Increment(ref _requests);
    }

    public void CutOff() => Interlocked.Increment(ref _ambiguous);

    public void Refuse() => Interlocked.Increment(ref _refused);
}
