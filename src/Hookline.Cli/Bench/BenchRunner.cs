using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Hookline.Cli.Bench;

/// <summary>
/// Runs the scenarios store by store against one sink, prints progress and the table, writes the JSON.
/// A scenario that fails is recorded with its error and the run goes on; the exit code is 1 if any failed.
/// An interrupted run (its token cancelled: Ctrl-C) stops the scenario it is in, disposes what it started (Hookline's
/// processes, S0's, the store's files and PostgreSQL cluster) and exits with <see cref="Interrupted"/>, writing no
/// table or JSON: a report of a run cut short would read as a finished one, and could overwrite one.
/// </summary>
internal sealed class BenchRunner(BenchOptions options, string command, TextWriter output)
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    private static readonly (string Name, Func<ScenarioContext, Task> Run)[] Scenarios =
    [
        ("S2", LatencyScenario.RunAsync),
        ("S3", FanOutScenario.RunAsync),
        ("S4", IsolationScenario.RunAsync),
        ("S5", BacklogScenario.RunAsync),
        ("S6", CrashScenario.RunAsync),
    ];

    /// <summary>The exit code of an interrupted run: 128 + SIGINT, as a shell reports a command Ctrl-C stopped.</summary>
    public const int Interrupted = 130;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await RunStoresAsync(cancellationToken);
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            await output.WriteLineAsync("hookline bench: interrupted; what it had started is stopped and removed. No table or report was written.");
            return Interrupted;
        }
    }

    private async Task<int> RunStoresAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var startedAt = TimeProvider.System.GetUtcNow();
        var machine = Machine.Describe();
        await output.WriteLineAsync($"hookline bench: {string.Join(", ", options.Stores)}; {options.Duration.TotalSeconds:0.#} s per phase; S5 backlog {options.Backlog:N0}; "
            + $"{machine.Cores} cores ({machine.Cpu}, L3 {machine.L3Cache}), GC {machine.Gc}, thread pool spin limit {machine.ThreadPoolSpinLimit}, load {machine.LoadAverage}");
        var reports = new List<StoreReport>();
        await using var sink = await Sink.StartAsync();
        foreach (var name in options.Stores)
        {
            var report = new StoreReport(name);
            reports.Add(report);
            BenchStore store;
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                store = name == "postgres" ? await BenchStore.PostgresAsync(options.Postgres) : BenchStore.Sqlite();
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                report.Available = false;
                report.Errors["store"] = e.Message;
                await output.WriteLineAsync($"  {name}: unavailable: {e.Message}");
                continue;
            }

            await using (store)
            {
                await RunStoreAsync(new ScenarioContext(store, sink, options, output, report, cancellationToken));
            }
        }

        var bench = new BenchReport(machine, command, startedAt, Math.Round(Ticks.SinceSeconds(started), 1), options.Quick, reports, [.. reports.SelectMany(Targets.Check)]);
        await output.WriteLineAsync();
        await output.WriteLineAsync(ReportTable.Render(bench));
        if (options.Out is { } path)
        {
            await File.WriteAllTextAsync(path, JsonSerializer.Serialize(bench, Json), cancellationToken);
            await output.WriteLineAsync($"Results written to {path}");
        }

        await output.WriteLineAsync($"Done in {bench.Seconds:0} s.");
        return reports.Any(r => r.Errors.Count > 0 && r.Available) ? 1 : 0;
    }

    private async Task RunStoreAsync(ScenarioContext context)
    {
        await output.WriteLineAsync($"  {context.Store.Name}:");
        if (!options.Quick && new[] { "S0", "S1", "S2", "S3", "S4" }.Any(options.Runs))
        {
            await RunScenarioAsync(context, "warm-up", WarmUp.RunAsync);
        }

        if (options.Runs("S0") || options.Runs("S1"))
        {
            await RunScenarioAsync(context, "S1", ThroughputScenario.RunAsync);
        }

        foreach (var (name, run) in Scenarios.Where(s => options.Runs(s.Name)))
        {
            await RunScenarioAsync(context, name, run);
        }

        // Last, so that no measured scenario follows the half million events each stores in a few seconds.
        if (options.Runs("S1"))
        {
            await RunScenarioAsync(context, "S1 ingestion", ThroughputScenario.RunIngestionAloneAsync);
            await RunScenarioAsync(context, "S1 floor", ThroughputScenario.RunFloorAsync);
        }
    }

    private async Task RunScenarioAsync(ScenarioContext context, string name, Func<ScenarioContext, Task> run)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            await run(context);
            context.CancellationToken.ThrowIfCancellationRequested();
            await output.WriteLineAsync($"    {context.Label(name)} done in {Ticks.SinceSeconds(started):0} s");
        }
        // Whatever a scenario throws once the run is interrupted comes of the interruption, and ends the run instead.
        catch (Exception e) when (!context.CancellationToken.IsCancellationRequested)
        {
            context.Report.Errors[name] = e.Message;
            await output.WriteLineAsync($"    {context.Label(name)} FAILED after {Ticks.SinceSeconds(started):0} s: {e}");
        }
    }
}
