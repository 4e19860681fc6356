using System.CommandLine;
using System.Runtime.InteropServices;

namespace Hookline.Cli.Bench;

/// <summary><c>hookline bench</c>: the benchmark of DESIGN §12 and issue 7 (scenarios S0–S6).</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var store = new Option<string>("--store") { Description = "sqlite (default), postgres or both.", DefaultValueFactory = _ => "sqlite" };
        store.AcceptOnlyFromAmong("sqlite", "postgres", "both");
        var postgres = new Option<string?>("--postgres") { Description = "Npgsql connection string of a server the bench may create databases on (default: start a throwaway cluster from the machine's PostgreSQL binaries)." };
        // Every value is checked before anything starts, by the option's own parser: a typo must not cost a fifteen-minute
        // run, or be quietly replaced by something else and reported as though it had been asked for.
        var duration = Parsed("--duration", $"Seconds per measured phase, {BenchArguments.MinSeconds:0}–{BenchArguments.MaxSeconds:0} (default 15; 2 with --quick).", BenchArguments.Seconds);
        var quick = new Option<bool>("--quick") { Description = "Smoke run: seconds per phase, small sizes." };
        var backlog = Parsed("--backlog", $"Deliveries queued for S5, at most {BenchArguments.MaxBacklog:N0} (default 1,000,000; 2,000 with --quick).", text => BenchArguments.Count("--backlog", text, 1, BenchArguments.MaxBacklog));
        var output = new Option<string?>("--out") { Description = "Write the results as JSON to this file (its directory must exist)." };
        output.Validators.Add(result =>
        {
            if (BenchArguments.OutputError(result.GetValueOrDefault<string?>()) is { } error)
            {
                result.AddError(error);
            }
        });
        var concurrency = Parsed("--concurrency", $"Connections to the sink: S0's loops and Delivery:MaxConcurrencyPerWebhook, 1–{BenchArguments.MaxConcurrency:N0} (default 16).", text => BenchArguments.Count("--concurrency", text, 1, BenchArguments.MaxConcurrency));
        var scenarios = Parsed("--scenarios", "Comma-separated subset of S0,S1,S2,S3,S4,S5,S6, e.g. S0,S1,S5 (default all).", BenchArguments.Scenarios);
        var fanOut = Parsed("--fanout", $"S3 webhook counts, each 1–{Sink.MaxWebhooks:N0} (default 10,100,1000; 10,100 with --quick).", text => BenchArguments.Counts("--fanout", text, 1, Sink.MaxWebhooks));
        var rates = Parsed("--rates", $"S2 events per second, each 1–{BenchArguments.MaxRate:N0} (default 1000,5000; 200,1000 with --quick).", text => BenchArguments.Counts("--rates", text, 1, BenchArguments.MaxRate));
        var window = Parsed("--window", $"Deliveries sent but not yet received that the steady scenarios' load generator allows, 1–{BenchArguments.MaxWindow:N0} (default 5000; 2000 with --quick).", text => BenchArguments.Count("--window", text, 1, BenchArguments.MaxWindow));

        var command = new Command("bench", "Benchmark Hookline against a loopback sink: throughput, latency, fan-out, isolation, backlog, crash (S0–S6).")
        {
            store, postgres, duration, quick, backlog, output, concurrency, scenarios, fanOut, rates, window,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new BenchOptions();
            if (parse.GetValue(quick))
            {
                options = BenchOptions.QuickDefaults(options);
            }

            options = options with
            {
                Stores = parse.GetValue(store) switch { "both" => ["sqlite", "postgres"], var one => [one!] },
                Postgres = parse.GetValue(postgres),
                Out = parse.GetValue(output),
            };
            if (parse.GetValue(duration) is { } seconds)
            {
                options = options with { Duration = TimeSpan.FromSeconds(seconds) };
            }

            if (parse.GetValue(backlog) is { } queued)
            {
                options = options with { Backlog = queued };
            }

            if (parse.GetValue(concurrency) is { } connections)
            {
                options = options with { Concurrency = connections };
            }

            if (parse.GetValue(scenarios) is { } names)
            {
                options = options with { Scenarios = names };
            }

            if (parse.GetValue(fanOut) is { } counts)
            {
                options = options with { FanOut = counts };
            }

            if (parse.GetValue(rates) is { } perSecond)
            {
                options = options with { Rates = perSecond };
            }

            if (parse.GetValue(window) is { } outstanding)
            {
                options = options with { Window = outstanding };
            }

            var arguments = CommandLine(parse.Tokens.Select(t => t.Value).ToList());
            using var interrupt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, signal => Interrupt(signal, interrupt));
            using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, signal => Interrupt(signal, interrupt));
            return await new BenchRunner(options, arguments, Console.Out).RunAsync(interrupt.Token);
        });
        return command;
    }

    /// <summary>
    /// Ctrl-C or SIGTERM: the first stops the run where it is and lets it clean up (a few seconds); a second quits at
    /// once, leaving the throwaway PostgreSQL cluster to its watchdog. Without this the signal did nothing: the bench's
    /// own Kestrel hosts claim it (each host's console lifetime cancels the default exit), and nothing stopped the run.
    /// </summary>
    private static void Interrupt(PosixSignalContext signal, CancellationTokenSource interrupt)
    {
        signal.Cancel = true;
        if (interrupt.IsCancellationRequested)
        {
            Console.Error.WriteLine("hookline bench: quitting at once.");
            Environment.Exit(BenchRunner.Interrupted);
        }

        Console.Error.WriteLine("hookline bench: interrupted; stopping and cleaning up (again to quit at once).");
        // Not Cancel(): its callbacks would run the bench's continuations on the runtime's signal thread.
        _ = interrupt.CancelAsync();
    }

    /// <summary>An option read by <paramref name="parse"/>, whose error, if any, is the option's: parsed once, for the check and the run alike.</summary>
    private static Option<T> Parsed<T>(string name, string description, Func<string, (T Value, string? Error)> parse)
        => new(name)
        {
            Description = description,
            CustomParser = result =>
            {
                var (value, error) = parse(result.Tokens.Count > 0 ? result.Tokens[0].Value : "");
                if (error is not null)
                {
                    result.AddError(error);
                }

                return value;
            },
        };

    /// <summary>The command as typed, for the report; a connection string may hold a password, so it is not repeated.</summary>
    private static string CommandLine(List<string> tokens)
    {
        var words = new List<string> { "hookline" };
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            if (token == "--postgres" && i + 1 < tokens.Count)
            {
                words.Add(token);
                words.Add("\"<connection string>\"");
                i++;
                continue;
            }

            words.Add(token.Contains(' ', StringComparison.Ordinal) ? $"\"{token}\"" : token);
        }

        return string.Join(' ', words);
    }
}
