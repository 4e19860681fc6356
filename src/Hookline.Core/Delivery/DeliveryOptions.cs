namespace Hookline.Core.Delivery;

/// <summary>Configuration section <c>Delivery</c>. Defaults are Razorpay's behaviour (DESIGN §3).</summary>
public sealed class DeliveryOptions
{
    public const string Section = "Delivery";

    /// <summary>Budget for a whole attempt: connect, TLS, request and response headers.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Delay before the second attempt; later delays grow by <see cref="RetryFactor"/>.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(5);

    public double RetryFactor { get; set; } = 2.0;

    /// <summary>Upper bound of one backoff delay (before jitter).</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromHours(6);

    /// <summary>Fraction of random spread applied to each delay (0.2 = ±20 %).</summary>
    public double RetryJitter { get; set; } = 0.2;

    /// <summary>No attempt starts later than the event's <c>created_at</c> plus this window.</summary>
    public TimeSpan RetryWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Minimum wait after a timeout or a 429, so a struggling receiver is not hammered.</summary>
    public TimeSpan SlowDownFloor { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>A webhook failing continuously for this long is disabled.</summary>
    public TimeSpan DisableAfter { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// Attempts in flight in this process, over all webhooks. Waiting on a socket costs little, so this is
    /// high: hundreds of hanging endpoints at their per-webhook cap must still leave slots for healthy ones.
    /// </summary>
    public int MaxConcurrency { get; set; } = 4096;

    /// <summary>Attempts in flight to one webhook from this process.</summary>
    public int MaxConcurrencyPerWebhook { get; set; } = 16;

    /// <summary>Development switch: allow loopback/private destinations and any port. Logged loudly when on.</summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>Ports a webhook URL may use when private networks are not allowed.</summary>
    public int[] AllowedPorts { get; set; } = [80, 443];

    /// <summary>Local addresses outbound connections are bound to (round-robin); empty = the OS chooses.</summary>
    public string[] SourceAddresses { get; set; } = [];

    /// <summary>Brand for the user agent and signature header (<c>Razorpay</c> keeps receivers unchanged).</summary>
    public string Brand { get; set; } = "Razorpay";

    /// <summary>How long a worker owns leased deliveries before another may take them.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often workers look for due deliveries when nothing wakes them.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Deliveries leased per database round trip (1,024: at 256 a single hot webhook on SQLite spent most of its time waiting for refills).</summary>
    public int LeaseBatchSize { get; set; } = 1024;

    /// <summary>
    /// The most a fast webhook's lane holds waiting: a lane holds about a second of its endpoint's work, up to this. What
    /// ingestion cannot hand a full lane is written for lease rounds, which cost PostgreSQL about four times as much per
    /// delivery, and at 1,024 a single busy webhook's lane filled and stayed so (docs/benchmarks.md, "Before and after").
    /// </summary>
    public int MaxLaneDepth { get; set; } = 8192;

    /// <summary>
    /// The most bytes of bodies a lane holds waiting, at its recent bodies' average size: large events make a fast lane
    /// shallower (never below <see cref="MaxConcurrencyPerWebhook"/>), so one webhook's lane cannot hold gigabytes.
    /// </summary>
    public int MaxLaneBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Bytes of a receiver's response body kept with the attempt.</summary>
    public int ResponseExcerptBytes { get; set; } = 4096;

    internal IEnumerable<string> Validate()
    {
        if (Timeout <= TimeSpan.Zero) yield return "Delivery:Timeout must be positive.";
        if (RetryBaseDelay <= TimeSpan.Zero) yield return "Delivery:RetryBaseDelay must be positive.";
        if (RetryMaxDelay < RetryBaseDelay) yield return "Delivery:RetryMaxDelay must be at least Delivery:RetryBaseDelay.";
        if (RetryFactor < 1) yield return "Delivery:RetryFactor must be at least 1.";
        if (RetryJitter is < 0 or >= 1) yield return "Delivery:RetryJitter must be in [0, 1).";
        if (RetryWindow <= TimeSpan.Zero) yield return "Delivery:RetryWindow must be positive.";
        if (SlowDownFloor < TimeSpan.Zero) yield return "Delivery:SlowDownFloor must not be negative.";
        if (DisableAfter <= TimeSpan.Zero) yield return "Delivery:DisableAfter must be positive.";
        if (MaxConcurrency < 1) yield return "Delivery:MaxConcurrency must be at least 1.";
        if (MaxConcurrencyPerWebhook < 1) yield return "Delivery:MaxConcurrencyPerWebhook must be at least 1.";
        if (LeaseDuration <= Timeout) yield return "Delivery:LeaseDuration must be longer than Delivery:Timeout.";
        if (PollInterval <= TimeSpan.Zero) yield return "Delivery:PollInterval must be positive.";
        if (LeaseBatchSize < 1) yield return "Delivery:LeaseBatchSize must be at least 1.";
        if (MaxLaneDepth < MaxConcurrencyPerWebhook) yield return "Delivery:MaxLaneDepth must be at least Delivery:MaxConcurrencyPerWebhook.";
        if (MaxLaneBytes < 1) yield return "Delivery:MaxLaneBytes must be at least 1.";
        if (ResponseExcerptBytes is < 0 or > 65536) yield return "Delivery:ResponseExcerptBytes must be in [0, 65536].";
        if (string.IsNullOrWhiteSpace(Brand) || Brand.Any(c => !char.IsAsciiLetterOrDigit(c) && c != '-'))
        {
            yield return "Delivery:Brand must be ASCII letters, digits or '-'.";
        }
    }
}
