namespace Hookline.Cli.Bench;

/// <summary>What <c>hookline bench</c> runs, and for how long. Defaults are the full run of issue 7.</summary>
internal sealed record BenchOptions
{
    public static readonly string[] AllScenarios = ["S0", "S1", "S2", "S3", "S4", "S5", "S6"];

    /// <summary><c>sqlite</c>, <c>postgres</c> or both, in that order.</summary>
    public IReadOnlyList<string> Stores { get; init; } = ["sqlite"];

    /// <summary>A PostgreSQL server the bench may create databases on; null = start a throwaway cluster.</summary>
    public string? Postgres { get; init; }

    /// <summary>Measured time of each steady phase (S1, each S2 rate, each S3 size, S4, each half of S6).</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Deliveries queued for S5.</summary>
    public int Backlog { get; init; } = 1_000_000;

    /// <summary>Connections to the sink: S0's loop count and Hookline's per-webhook concurrency.</summary>
    public int Concurrency { get; init; } = 16;

    public IReadOnlyList<int> FanOut { get; init; } = [10, 100, 1000];

    public IReadOnlyList<int> Rates { get; init; } = [1000, 5000];

    public IReadOnlySet<string> Scenarios { get; init; } = new HashSet<string>(AllScenarios, StringComparer.OrdinalIgnoreCase);

    public bool Quick { get; init; }

    public string? Out { get; init; }

    /// <summary>Events per ingestion request in the throughput scenarios.</summary>
    public int BatchEvents { get; init; } = 100;

    /// <summary>
    /// Deliveries sent to Hookline (accepted, or in a request still awaiting its answer) but not yet received that the
    /// load generator allows: enough to keep every stage busy, bounded so that a run measures the steady state instead
    /// of a growing queue.
    /// </summary>
    public int Window { get; init; } = 5000;

    /// <summary>The smoke run: seconds per phase, small sizes, every scenario still present.</summary>
    public static BenchOptions QuickDefaults(BenchOptions options) => options with
    {
        Quick = true,
        Duration = TimeSpan.FromSeconds(2),
        Backlog = 2000,
        FanOut = [10, 100],
        Rates = [200, 1000],
        Window = 2000,
    };

    public bool Runs(string scenario) => Scenarios.Contains(scenario);

    /// <summary>Warm-up excluded from steady-state rates: a fifth of the phase, at least half a second.</summary>
    public TimeSpan Warmup => TimeSpan.FromTicks(Math.Max(Duration.Ticks / 5, TimeSpan.FromMilliseconds(500).Ticks));
}
