using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Hookline.Cli.Bench;

/// <summary>
/// S0 in a process of its own: its loops and a sink of its own, with .NET's default runtime settings, whatever
/// Hookline's runtimeconfig or the bench's environment says. S0 is the yardstick, what a plain .NET client and server
/// reach on this machine. Run in the bench's process, it ran under Hookline's settings (a thread pool setting Hookline
/// shipped for a while, no spinning, left a quarter of a core idle in S0's loop) and beside the bench's grown heap and
/// idle threads: a process of its own reads about a fifth higher (docs/benchmarks.md, Before and after). Started once
/// per S0 half; it warms its loop up before it measures, since its JIT starts cold.
/// </summary>
internal static class RawPostProcess
{
    /// <summary>The hidden command the child runs.</summary>
    public const string CommandName = "bench-s0";

    /// <summary>.NET's own default spin limit (70), as the runtime reads the variable: hexadecimal.</summary>
    private const string DefaultSpinLimit = "0x46";

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static async Task<RawPost> MeasureAsync(BenchOptions options, TimeSpan duration, TextWriter output, string label, CancellationToken cancellationToken)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "hookline.dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException("hookline.dll is not next to the bench; run the bench from a build of Hookline.Cli.", dll);
        }

        var warmUp = WarmUpFor(duration);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[]
        {
            dll, CommandName, "--concurrency", Invariant(options.Concurrency), "--seconds", Invariant(duration.TotalSeconds),
            "--phase-seconds", Invariant(options.Duration.TotalSeconds), "--warmup-seconds", Invariant(warmUp.TotalSeconds), "--label", label,
        })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment[Machine.SpinLimitVariable] = DefaultSpinLimit;
        start.Environment.Remove(Machine.SpinLimitLegacyVariable);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start S0's process");
        var errors = new Queue<string>();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not { } line)
            {
                return;
            }

            lock (errors)
            {
                if (errors.Count == 20)
                {
                    errors.Dequeue(); // kept for the error message only: its last lines
                }

                errors.Enqueue(line);
                output.WriteLine(line); // the child's progress lines
            }
        };
        process.BeginErrorReadLine();
        // Bounded like every phase: the half, its warm-up and a minute for the process to start and stop.
        // An interrupted run stops it at once.
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(duration + warmUp + TimeSpan.FromMinutes(1));
        string result;
        try
        {
            result = await process.StandardOutput.ReadToEndAsync(limit.Token);
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException($"S0's process ({label}) did not finish in time; killed");
        }

        if (process.ExitCode != 0 || string.IsNullOrWhiteSpace(result))
        {
            string tail;
            lock (errors)
            {
                tail = string.Join('\n', errors);
            }

            throw new InvalidOperationException($"S0's process exited with {process.ExitCode}: {tail}");
        }

        var last = result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1];
        return JsonSerializer.Deserialize<RawPost>(last, Json) ?? throw new InvalidOperationException("S0's process printed no result");
    }

    /// <summary>The child's unmeasured run of the same loop first: three seconds, less for a short phase.</summary>
    internal static TimeSpan WarmUpFor(TimeSpan duration) => TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(3).Ticks, Math.Max(duration.Ticks / 2, TimeSpan.FromMilliseconds(300).Ticks)));

    /// <summary><c>hookline bench-s0</c>: hidden; what <see cref="MeasureAsync"/> starts. Prints the half's figures as JSON.</summary>
    public static Command Create()
    {
        var concurrency = new Option<int>("--concurrency") { Required = true };
        var seconds = new Option<double>("--seconds") { Required = true };
        var phaseSeconds = new Option<double>("--phase-seconds") { Required = true };
        var warmUpSeconds = new Option<double>("--warmup-seconds") { Required = true };
        var label = new Option<string>("--label") { Required = true };
        var command = new Command(CommandName, "S0 of hookline bench, in a process of its own.") { Hidden = true };
        foreach (var option in new Option[] { concurrency, seconds, phaseSeconds, warmUpSeconds, label })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, _) =>
        {
            var options = new BenchOptions { Concurrency = Math.Max(1, parse.GetValue(concurrency)), Duration = TimeSpan.FromSeconds(parse.GetValue(phaseSeconds)) };
            var name = parse.GetValue(label)!;
            await using var sink = await Sink.StartAsync();
            await RawPostScenario.MeasureAsync(sink, options, TimeSpan.FromSeconds(parse.GetValue(warmUpSeconds)), Console.Error, name + " (its process warming up)");
            var measured = await RawPostScenario.MeasureAsync(sink, options, TimeSpan.FromSeconds(parse.GetValue(seconds)), Console.Error, name);
            await Console.Out.WriteLineAsync(JsonSerializer.Serialize(measured with { ThreadPoolSpinLimit = Machine.SpinLimit() }, Json));
            return 0;
        });
        return command;
    }

    private static string Invariant(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
