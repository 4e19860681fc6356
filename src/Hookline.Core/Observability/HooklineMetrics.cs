using System.Diagnostics;
using System.Diagnostics.Metrics;
using Hookline.Core.Delivery;

namespace Hookline.Core.Observability;

/// <summary>
/// Hookline's instruments, on a meter of this instance's own so that two hosts in one process (tests, the
/// bench) never count each other's work. <c>/metrics</c> renders them in Prometheus text format
/// (PrometheusExporter in Hookline.Server); any OpenTelemetry listener can subscribe to the meter by name too.
/// Tags are bounded sets (an attempt's outcome), never ids, so a series per merchant cannot appear.
/// </summary>
internal sealed class HooklineMetrics : IDisposable
{
    public const string MeterName = "Hookline";

    private readonly Counter<long> _eventsIngested;
    private readonly Histogram<double> _ingestCommit;
    private readonly Counter<long> _attempts;
    private readonly Histogram<double> _attemptDuration;
    private readonly Histogram<double> _resultsWrite;
    private readonly Counter<long> _webhooksDisabled;
    private readonly Counter<long> _resultsDropped;
    private readonly Histogram<double> _sqliteCommit;
    private readonly Counter<double> _sqliteWriterBusy;
    private readonly Counter<double> _sqliteWriterCpu;

    public HooklineMetrics()
    {
        Meter = new Meter(MeterName);
        _eventsIngested = Meter.CreateCounter<long>("hookline.events.ingested", "{event}", "Events committed by ingestion (test fires and replays not included).");
        _ingestCommit = Meter.CreateHistogram<double>("hookline.ingest.commit.duration", "s", "Time the store took to commit one ingestion request (for a 201, the durable write it waits for).");
        _attempts = Meter.CreateCounter<long>("hookline.delivery.attempts", "{attempt}", "Delivery attempts by outcome: success, or the error (http_status, timeout, connection_refused, ...).");
        _attemptDuration = Meter.CreateHistogram<double>("hookline.delivery.attempt.duration", "s", "Time from connecting to the receiver to its answer, or to the failure.");
        _resultsWrite = Meter.CreateHistogram<double>("hookline.results.write.duration", "s", "Time the store took to record one batch of attempt results.");
        _sqliteCommit = Meter.CreateHistogram<double>("hookline.sqlite.commit.duration", "s", "Time SQLite took to commit one group of writes: the WAL append and its fsync, the disk's share of every write.");
        _sqliteWriterBusy = Meter.CreateCounter<double>(
            "hookline.sqlite.writer.busy", "s",
            "Time SQLite's single writer spent, by work (ingest, lease, results, other, and commit: the WAL append and fsync). Its rate is the writer's load: near 1 it is saturated and every write queues.");
        _sqliteWriterCpu = Meter.CreateCounter<double>(
            "hookline.sqlite.writer.cpu", "s",
            "CPU time SQLite's single writer used (Linux only). Against hookline.sqlite.writer.busy: the rest of the writer's time it waited, for the disk's fsync or for a core.");
        _webhooksDisabled = Meter.CreateCounter<long>("hookline.webhooks.disabled", "{webhook}", "Webhooks disabled after failing for the whole retry window.");
        _resultsDropped = Meter.CreateCounter<long>(
            "hookline.results.dropped", "{result}",
            "Attempt results the store refused on their own, again and again, and that were given up: each delivery is attempted again when its lease runs out. Any is a bug to report.");
    }

    public Meter Meter { get; }

    public void Ingested(int events, long startTimestamp)
    {
        _ingestCommit.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds);
        if (events > 0)
        {
            _eventsIngested.Add(events);
        }
    }

    public void Attempted(AttemptOutcome outcome)
    {
        _attempts.Add(1, new KeyValuePair<string, object?>("outcome", outcome.Succeeded ? "success" : outcome.Error.ToWire()));
        _attemptDuration.Record(outcome.Duration.TotalSeconds);
    }

    public void ResultsWritten(long startTimestamp, int webhooksDisabled)
    {
        _resultsWrite.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds);
        if (webhooksDisabled > 0)
        {
            _webhooksDisabled.Add(webhooksDisabled);
        }
    }

    public void ResultDropped() => _resultsDropped.Add(1);

    /// <summary>One SQLite commit that started at <paramref name="startTimestamp"/>: its duration, and the writer's time it took.</summary>
    public void SqliteCommitted(long startTimestamp)
    {
        var ticks = Stopwatch.GetTimestamp() - startTimestamp;
        _sqliteCommit.Record((double)ticks / Stopwatch.Frequency);
        SqliteWriterBusy(WriterWork.Commit, ticks);
    }

    /// <summary>The SQLite writer spent <paramref name="ticks"/> (<see cref="Stopwatch"/> ticks) on <paramref name="work"/>, one of <see cref="WriterWork"/>.</summary>
    public void SqliteWriterBusy(string work, long ticks)
        => _sqliteWriterBusy.Add((double)ticks / Stopwatch.Frequency, new KeyValuePair<string, object?>("work", work));

    /// <summary>The SQLite writer's thread used <paramref name="cpu"/> of CPU time on one group of writes.</summary>
    public void SqliteWriterCpu(TimeSpan cpu) => _sqliteWriterCpu.Add(cpu.TotalSeconds);

    public void Dispose() => Meter.Dispose();
}

/// <summary>What the SQLite writer's time went to, the <c>work</c> tag of <c>hookline.sqlite.writer.busy</c>.</summary>
internal static class WriterWork
{
    public const string Ingest = "ingest";
    public const string Lease = "lease";
    public const string Results = "results";
    public const string Other = "other";
    public const string Commit = "commit";
}
