namespace Hookline.Cli.Bench;

/// <summary>The whole run, as written to <c>--out</c> (snake_case JSON).</summary>
internal sealed record BenchReport(
    Machine Machine,
    string Command,
    DateTimeOffset StartedAt,
    double Seconds,
    bool Quick,
    IReadOnlyList<StoreReport> Stores,
    IReadOnlyList<TargetCheck> Targets);

/// <summary>One store's figures. A scenario that was not run or failed is null, with its error in <see cref="Errors"/>.</summary>
internal sealed class StoreReport(string store)
{
    public string Store { get; } = store;

    public bool Available { get; set; } = true;

    public Dictionary<string, string> Errors { get; } = [];

    public RawPostResult? S0 { get; set; }

    public ThroughputResult? S1 { get; set; }

    public FloorResult? S1Floor { get; set; }

    /// <summary>The floor again, keeping indexed records an API reads through (<see cref="ForwarderRecords"/>).</summary>
    public FloorResult? S1FloorRecords { get; set; }

    public IngestionResult? S1Ingestion { get; set; }

    public List<LatencyResult>? S2 { get; set; }

    public List<FanOutResult>? S3 { get; set; }

    public IsolationResult? S4 { get; set; }

    public BacklogResult? S5 { get; set; }

    public CrashResult? S6 { get; set; }
}

/// <summary>
/// S0: a plain HttpClient loop posting the same signed 1 KiB envelope to the sink, measured before and after S1.
/// <see cref="CpuMicrosecondsPerRequest"/> is what the bench process (client and sink) spent per request,
/// <see cref="CoresUsed"/> the share of the machine it got: a noisy neighbour shows as fewer cores, not as a
/// dearer request.
/// </summary>
internal sealed record RawPostResult(
    int Concurrency, int BodyBytes, long Requests, double RequestsPerSecond, double BeforePerSecond, double AfterPerSecond, Percentiles Latency,
    double CpuMicrosecondsPerRequest, double CoresUsed, string? ThreadPoolSpinLimit = null);

/// <summary>
/// S1: batched ingestion, one webhook, deliveries per second from acceptance to the recorded 2xx. The CPU per
/// delivery covers everything in the bench process: Hookline, the sink and the load generator; the other CPU per
/// delivery is the rest of the machine's (PostgreSQL's server, on PostgreSQL). <see cref="Paths"/>: how the worker took
/// the deliveries of the steady phase, from ingestion grants or by lease rounds.
/// </summary>
internal sealed record ThroughputResult(
    int BatchEvents, long Events, long Deliveries, double Seconds, double DeliveriesPerSecond, double ReceivedPerSecond, double? RecordedPerSecond,
    double? RatioToS0, Percentiles Ack, Percentiles EndToEnd, long Lost, long Duplicates, double DrainSeconds,
    double CpuMicrosecondsPerDelivery, double CoresUsed, WriterLoad? Writer, double? OtherCpuMicrosecondsPerDelivery, DispatchPaths? Paths = null);

/// <summary>
/// S1's floor: S1's load against <see cref="MinimalForwarder"/> instead of Hookline, between two halves of S0 of its
/// own (<see cref="S0PerSecond"/>, their mean). What a durable forwarder doing nothing but the unavoidable (ingest,
/// render, one durable append per group, a signed POST, the outcome appended) reaches on this machine with this
/// store's kind of durability; <see cref="S1RatioToFloor"/> is how close Hookline's S1, measured earlier in the same
/// run, came to it. The other CPU is the rest of the machine's (PostgreSQL's server).
/// </summary>
internal sealed record FloorResult(
    long Events, double Seconds, double DeliveriesPerSecond, double? S0PerSecond, double? RatioToS0, double? S1RatioToFloor, Percentiles Ack, Percentiles EndToEnd,
    long Lost, long Duplicates, double CpuMicrosecondsPerDelivery, double CoresUsed, double? OtherCpuMicrosecondsPerDelivery);

/// <summary>
/// S1's ingestion alone: the same batched load for an account with no webhook, so events are stored and nothing is
/// delivered. What ingestion costs per event (the load generator, both ends of the HTTP request, parsing, the event's
/// durable write), to set beside S0's POST in what a delivery costs; the SQLite writer's CPU share of it where known.
/// </summary>
internal sealed record IngestionResult(
    double Seconds, double EventsPerSecond, double CpuMicrosecondsPerEvent, double CoresUsed, double? WriterCpuMicrosecondsPerEvent);

/// <summary>
/// S2: one event per request at a fixed rate; latencies count from each request's due time. Events, rates and
/// percentiles are the steady phase's; lost and duplicates count the cold start too (nothing may be lost in it
/// either), and the commit figures cover the whole run. Cores used and CPU per event (the bench process's: Hookline,
/// sink and load generator) are the steady phase's: what headroom the machine had at that rate.
/// </summary>
internal sealed record LatencyResult(
    int Rate, double Seconds, double AchievedPerSecond, long Events, long Skipped, long Failed, Percentiles Ack, Percentiles EndToEnd, long Lost, long Duplicates,
    CommitLatency? StoreCommits, CommitLatency? SqliteCommits, ColdStart ColdStart, WriterLoad? Writer, double CoresUsed, double CpuMicrosecondsPerEvent,
    SlowAcks SlowAcks, GcLoad Gc, Percentiles Lateness);

/// <summary>
/// Acks over 5 ms over the whole S2 run (cold start and steady phase), the span of <see cref="LatencyResult.StoreCommits"/>:
/// more slow acks than slow ingestion commits means the extra wait was spent outside the store.
/// </summary>
internal sealed record SlowAcks(long Acks, long Over5Ms);

/// <summary>S2's first seconds at the rate on a freshly started instance, left out of its percentiles.</summary>
internal sealed record ColdStart(double Seconds, long Events, Percentiles Ack, Percentiles EndToEnd);

/// <summary>S3: one event, <see cref="Webhooks"/> subscribed webhooks.</summary>
internal sealed record FanOutResult(
    int Webhooks, int BatchEvents, long Events, long Deliveries, double Seconds, double DeliveriesPerSecond, double? RatioToS1, Percentiles Ack, Percentiles EndToEnd, long Lost, long Duplicates);

/// <summary>S4: a tenth of the webhooks black-holed or refusing; what the healthy ones get.</summary>
internal sealed record IsolationResult(
    int Webhooks, int BlackHoled, int Refusing, double Seconds, double HealthyDeliveriesPerSecond, double? RatioToS1, Percentiles HealthyEndToEnd, double? P99RatioToS1,
    long Lost, long Duplicates, Percentiles Ack);

/// <summary>S5: deliveries queued with no worker running, then drained by a fresh <c>hookline serve</c>.</summary>
internal sealed record BacklogResult(
    long Deliveries, double IngestSeconds, double IngestEventsPerSecond, double DrainSeconds, double DrainPerSecond, double? RatioToS1,
    double PeakRssMb, double PeakRssIngestMb, double PeakRssDrainMb, long Lost, long Duplicates);

/// <summary>S6: kill -9 of <c>hookline serve</c> under S1's load, restart at once.</summary>
internal sealed record CrashResult(
    long Events, long Lost, long Duplicates, long AmbiguousRequests, long UnacknowledgedArrivals, double RateBeforeKill,
    double RestartSeconds, double? SecondsBackToFullSpeed, double SecondsUntilAllDelivered, double LeaseSeconds);

/// <summary>One target of issue 7 against its figure.</summary>
internal sealed record TargetCheck(string Store, string Scenario, string Figure, double Value, string Target, bool Met);
