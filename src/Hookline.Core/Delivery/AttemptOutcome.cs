namespace Hookline.Core.Delivery;

/// <summary>Why an attempt failed, in the words the attempts log and e-mails use.</summary>
internal enum AttemptError
{
    None,
    HttpStatus,
    Redirect,
    Timeout,
    ConnectionRefused,
    Dns,
    Tls,
    Network,
    BlockedDestination,
}

internal static class AttemptErrors
{
    public static string? ToWire(this AttemptError error) => error switch
    {
        AttemptError.None => null,
        AttemptError.HttpStatus => "http_status",
        AttemptError.Redirect => "redirect",
        AttemptError.Timeout => "timeout",
        AttemptError.ConnectionRefused => "connection_refused",
        AttemptError.Dns => "dns",
        AttemptError.Tls => "tls",
        AttemptError.Network => "network",
        AttemptError.BlockedDestination => "blocked_destination",
        _ => throw new ArgumentOutOfRangeException(nameof(error), error, null),
    };
}

/// <summary>The result of one HTTP try, as a value: failures are outcomes, not exceptions.</summary>
internal sealed record AttemptOutcome(
    AttemptError Error,
    int? StatusCode,
    TimeSpan Duration,
    string? ResponseExcerpt,
    TimeSpan? RetryAfter,
    string? Detail = null)
{
    public bool Succeeded => Error == AttemptError.None;

    /// <summary>Permanent failures are not retried: retrying cannot change the verdict.</summary>
    public bool IsPermanent => Error == AttemptError.BlockedDestination;

    public static AttemptOutcome Failure(AttemptError error, TimeSpan duration, string? detail = null)
        => new(error, null, duration, null, null, detail);
}
