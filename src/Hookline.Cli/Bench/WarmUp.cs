namespace Hookline.Cli.Bench;

/// <summary>
/// A few seconds of S1's load on a throwaway instance, then of S0's, not measured, before a store's in-process scenarios: the
/// JIT compiles and re-compiles (tiered, with PGO) the hot paths in the first seconds of a process, and without
/// this the first scenario would pay for it and the others would not. S5 and S6 run their own processes and
/// include their own warm-up, as a restarted server would.
/// </summary>
internal static class WarmUp
{
    public static async Task RunAsync(ScenarioContext context)
    {
        var options = context.Options with { Duration = TimeSpan.FromSeconds(Math.Min(5, context.Options.Duration.TotalSeconds / 2)) };
        var (instance, hookline) = await context.StartInProcessAsync();
        await using (instance)
        await using (hookline)
        {
            var accountId = await context.AccountWithWebhooksAsync(hookline, [context.Sink.Url(0)]);
            await SteadyRun.RunAsync(new SteadyPlan(hookline, context.Sink, accountId, options.BatchEvents, 1, context.Label("warm-up")), options, context.Output);
        }

        // S0's loop too, unmeasured: straight after the warm-up above, S0's first half ran 20-45 % below the rest of
        // it in every run, which understated the limit every ratio to S0 is taken against.
        await RawPostScenario.MeasureAsync(context.Sink, context.Options, options.Duration, context.Output, context.Label("warm-up S0"));
    }
}
