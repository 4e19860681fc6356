namespace Hookline.Server.Hosting;

/// <summary>Configuration section <c>Replay</c>.</summary>
internal sealed class ReplayOptions
{
    public const string Section = "Replay";

    /// <summary>Events older than this cannot be replayed (Razorpay keeps 15 days).</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromDays(15);
}
