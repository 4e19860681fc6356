namespace Hookline.Server.Hosting;

/// <summary>Configuration section <c>Storage</c>.</summary>
internal sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary><c>sqlite</c> (embedded, the default) or <c>postgres</c>.</summary>
    public string Provider { get; set; } = "sqlite";

    /// <summary>Holds the SQLite database, the generated platform token and the secrets master key.</summary>
    public string DataDirectory { get; set; } = "data";

    public string? ConnectionString { get; set; }
}

/// <summary>Configuration section <c>Platform</c>.</summary>
internal sealed class PlatformOptions
{
    public const string Section = "Platform";

    /// <summary>The operator's bearer token; generated and stored in the data directory when not set.</summary>
    public string? Token { get; set; }
}

/// <summary>Configuration section <c>Limits</c>.</summary>
internal sealed class LimitsOptions
{
    public const string Section = "Limits";

    /// <summary>Largest request body accepted by the API (a single event or a batch).</summary>
    public int MaxRequestBytes { get; set; } = 1024 * 1024;

    /// <summary>Most events in one <c>POST /v1/events/batch</c>.</summary>
    public int MaxBatchEvents { get; set; } = 1000;

    /// <summary>Failed authentications from one address before it is refused with 429.</summary>
    public int AuthFailures { get; set; } = 20;

    /// <summary>How long failures are counted, and how long an address stays refused.</summary>
    public TimeSpan AuthFailureWindow { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Payments webhooks per account and mode (Razorpay allows 30).</summary>
    public int PaymentsWebhooks { get; set; } = 30;

    /// <summary>Payouts webhooks per account and mode (Razorpay allows 1).</summary>
    public int PayoutsWebhooks { get; set; } = 1;

    /// <summary>
    /// Whether ingested payloads must satisfy the catalogue's schema of their event. Unset (the default): test-mode
    /// events only, where platforms integrate; true: both modes; false: neither.
    /// </summary>
    public bool? ValidatePayloads { get; set; }

    public bool ValidatesPayloads(string mode) => ValidatePayloads ?? mode == Hookline.Core.Modes.Test;
}

/// <summary>Configuration section <c>Server</c>.</summary>
internal sealed class ServerOptions
{
    public const string Section = "Server";

    /// <summary><c>all</c> (API and worker), <c>api</c> or <c>worker</c>.</summary>
    public string Role { get; set; } = "all";

    public bool RunsWorker => Role is "all" or "worker";

    public bool RunsApi => Role is "all" or "api";

    /// <summary>
    /// Thread-pool threads started on demand without the pool's ramp-up delay (null: four per core). The runtime's
    /// own minimum is one per core, and past it the pool adds threads a few at a time; SQLite's writer holds one
    /// pool thread for each group it writes (its calls and fsync are synchronous), so a quiet instance hit by a
    /// burst queued its work behind too few threads for seconds (bench S2, docs/benchmarks.md).
    /// </summary>
    public int? MinThreads { get; set; }

    public IEnumerable<string> Validate()
    {
        if (MinThreads is < 1 or > 32767)
        {
            yield return "Server:MinThreads must be between 1 and 32767.";
        }
    }

    /// <summary>Raises the pool's minimum to <see cref="MinThreads"/>; never lowers what the runtime or an operator set.</summary>
    public void ApplyMinThreads()
    {
        var wanted = MinThreads ?? 4 * Environment.ProcessorCount;
        ThreadPool.GetMinThreads(out var workers, out var completionPorts);
        if (wanted > workers)
        {
            ThreadPool.SetMinThreads(wanted, completionPorts);
        }
    }
}
