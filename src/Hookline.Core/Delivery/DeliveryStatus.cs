namespace Hookline.Core.Delivery;

internal static class DeliveryStatus
{
    /// <summary>Waiting for its next attempt (or in flight under a lease).</summary>
    public const string Pending = "pending";
    public const string Succeeded = "succeeded";

    /// <summary>Gave up: the retry window passed, or the failure was permanent.</summary>
    public const string Failed = "failed";

    /// <summary>The webhook was disabled when the event arrived; replayable after re-enabling.</summary>
    public const string Skipped = "skipped";

    /// <summary>The webhook was disabled or deleted while the delivery was pending.</summary>
    public const string Cancelled = "cancelled";

    public static bool IsValid(string? status) => status is Pending or Succeeded or Failed or Skipped or Cancelled;
}

internal static class AttemptTrigger
{
    public const string Initial = "initial";
    public const string Retry = "retry";
    public const string Replay = "replay";
    public const string Test = "test";
}
