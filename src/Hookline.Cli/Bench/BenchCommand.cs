using System.CommandLine;
using System.Globalization;

namespace Hookline.Cli.Bench;

/// <summary><c>hookline bench</c>: the benchmark of DESIGN §12 and issue 7 (scenarios S0–S6).</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var store = new Option<string>("--store") { Description = "sqlite (default), postgres or both.", DefaultValueFactory = _ => "sqlite" };
        store.AcceptOnlyFromAmong("sqlite", "postgres", "both");
        var postgres = new Option<string?>("--postgres") { Description = "Npgsql connection string of a server the bench may create databases on (default: start a throwaway cluster from the machine's PostgreSQL binaries)." };
        var duration = new Option<double?>("--duration") { Description = "Seconds per measured phase (default 15; 2 with --quick)." };
        var quick = new Option<bool>("--quick") { Description = "Smoke run: seconds per phase, small sizes." };
        var backlog = new Option<int?>("--backlog") { Description = "Deliveries queued for S5 (default 1000000; 2000 with --quick)." };
        var output = new Option<string?>("--out") { Description = "Write the results as JSON to this file." };
        var concurrency = new Option<int?>("--concurrency") { Description = "Connections to the sink: S0's loops and Delivery:MaxConcurrencyPerWebhook (default 16)." };
        var scenarios = new Option<string?>("--scenarios") { Description = "Comma-separated subset, e.g. S0,S1,S5 (default all)." };
        var fanOut = new Option<string?>("--fanout") { Description = "S3 webhook counts (default 10,100,1000; 10,100 with --quick)." };
        var rates = new Option<string?>("--rates") { Description = "S2 events per second (default 1000,5000; 200,1000 with --quick)." };
        var window = new Option<int?>("--window") { Description = "Deliveries sent but not yet received that the steady scenarios' load generator allows (default 5000; 2000 with --quick)." };

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
                options = options with { Duration = TimeSpan.FromSeconds(Math.Max(1, seconds)) };
            }

            if (parse.GetValue(backlog) is { } queued)
            {
                options = options with { Backlog = Math.Max(1, queued) };
            }

            if (parse.GetValue(concurrency) is { } connections)
            {
                options = options with { Concurrency = Math.Max(1, connections) };
            }

            if (parse.GetValue(scenarios) is { } names)
            {
                options = options with { Scenarios = new HashSet<string>(Split(names).Select(n => n.ToUpperInvariant()), StringComparer.OrdinalIgnoreCase) };
            }

            if (parse.GetValue(fanOut) is { } counts)
            {
                options = options with { FanOut = [.. Split(counts).Select(n => int.Parse(n, CultureInfo.InvariantCulture))] };
            }

            if (parse.GetValue(rates) is { } perSecond)
            {
                options = options with { Rates = [.. Split(perSecond).Select(n => int.Parse(n, CultureInfo.InvariantCulture))] };
            }

            if (parse.GetValue(window) is { } outstanding)
            {
                options = options with { Window = Math.Max(1, outstanding) };
            }

            var arguments = CommandLine(parse.Tokens.Select(t => t.Value).ToList());
            return await new BenchRunner(options, arguments, Console.Out).RunAsync(cancellationToken);
        });
        return command;
    }

    private static string[] Split(string list) => list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

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
