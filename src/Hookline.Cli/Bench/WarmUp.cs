using System.Diagnostics;
using System.Globalization;
using System.Runtime;

namespace Hookline.Cli.Bench;

/// <summary>
/// S1's load on a throwaway instance, not measured, before a store's in-process scenarios: the JIT compiles
/// and re-compiles (tiered, with PGO) the hot paths in the first seconds of a process, and without this the first
/// scenario would pay for it and the others would not. S1's load runs in rounds until the JIT has settled: a round in
/// which compiling took less than <see cref="SettledShare"/> of its time, or <see cref="MaxRounds"/> rounds. One round
/// was not enough on two busy cores: `perf` of the bench process 6–16 s into PostgreSQL's S1 found the JIT compiler at
/// 12 % of the process's samples, and none 20 s later. S5 and S6 run their own processes and include their own
/// warm-up, as a restarted server would, and S0 runs in a process of its own that warms up its loop first
/// (<see cref="RawPostProcess"/>).
/// </summary>
internal static class WarmUp
{
    /// <summary>Compiling took at most this share of a round's time: the JIT has settled.</summary>
    public const double SettledShare = 0.02;

    public const int MaxRounds = 8;

    public static async Task RunAsync(ScenarioContext context)
    {
        var options = context.Options with { Duration = TimeSpan.FromSeconds(Math.Min(5, context.Options.Duration.TotalSeconds / 2)) };
        var (instance, hookline) = await context.StartInProcessAsync();
        await using (instance)
        await using (hookline)
        {
            var accountId = await context.AccountWithWebhooksAsync(hookline, [context.Sink.Url(0)]);
            for (var round = 1; round <= MaxRounds; round++)
            {
                var compiling = JitInfo.GetCompilationTime();
                var methods = JitInfo.GetCompiledMethodCount();
                var started = Stopwatch.GetTimestamp();
                await SteadyRun.RunAsync(new SteadyPlan(hookline, context.Sink, accountId, options.BatchEvents, 1, context.Label("warm-up")), options, context.Output, context.CancellationToken);
                var share = (JitInfo.GetCompilationTime() - compiling) / Stopwatch.GetElapsedTime(started);
                context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    warm-up round {round}: the JIT compiled {JitInfo.GetCompiledMethodCount() - methods:N0} methods, {share:P1} of the time"));
                if (share <= SettledShare || context.Options.Quick)
                {
                    break;
                }
            }
        }
    }
}
