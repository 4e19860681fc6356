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
}
