namespace Hookline.Core.Delivery;

/// <summary>
/// Whether the ordinary lease round may sit out a pass of the poll loop. While deep lanes drain a backlog, the due rows
/// at the head of the store's queue are theirs, and the ordinary round, which leaves deep lanes to deep rounds, leases
/// nothing; yet it pays for the scan: on PostgreSQL it locks a scan's worth of the deep webhooks' rows before leaving
/// them out (4,096 rows, about 22 ms), between every two deep rounds of a drain (docs/benchmarks.md). So after an
/// ordinary round that leased nothing while every webhook it left out was a deep lane, the next one waits until new
/// work is announced (<see cref="WorkArrived"/>: another process's commit, a replay, an ingestion that queued what this
/// worker could not take) or until <c>rest</c> has passed, for whatever comes due by the clock (a retry). A round that
/// left out a lane for being full never rests: that lane may have room again at any moment, and only an ordinary round
/// feeds it. Used by the poll loop only, except <see cref="WorkArrived"/> (any thread).
/// </summary>
internal sealed class OrdinaryRoundPacing(TimeProvider time, TimeSpan rest)
{
    private DateTimeOffset? _emptyAt;
    private volatile bool _workArrived;

    /// <summary>Due work may have been committed that the last ordinary round could not see: the next one runs.</summary>
    public void WorkArrived() => _workArrived = true;

    /// <summary>Whether this pass may skip the ordinary round.</summary>
    public bool MayRest() => !_workArrived && _emptyAt is { } at && time.GetUtcNow() - at < rest;

    /// <summary>
    /// Before an ordinary round: what was announced until now, it will see. (Announced during the round, it may not:
    /// the flag is set again and the next pass runs.)
    /// </summary>
    public void Starting() => _workArrived = false;

    /// <summary>After an ordinary round that ran: how many deliveries it leased, and whether it left out only deep lanes.</summary>
    public void Finished(int leased, bool leftOutOnlyDeepLanes)
        => _emptyAt = leased == 0 && leftOutOnlyDeepLanes ? time.GetUtcNow() : null;
}
