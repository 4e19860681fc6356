namespace Hookline.Receiver;

/// <summary>The outcome of verifying a Standard Webhooks request with <see cref="StandardWebhooks"/>.</summary>
public enum SignatureCheck
{
    /// <summary>
    /// The default value, never returned by a verification: an uninitialised result must not read as
    /// <see cref="Valid"/>.
    /// </summary>
    NotChecked = 0,

    /// <summary>One of the signatures matches one of the secrets and the timestamp is within tolerance.</summary>
    Valid,

    /// <summary><c>webhook-id</c>, <c>webhook-timestamp</c> or <c>webhook-signature</c> is missing or empty.</summary>
    MissingHeaders,

    /// <summary><c>webhook-timestamp</c> is not a whole number of Unix seconds (ASCII digits only).</summary>
    InvalidTimestamp,

    /// <summary>
    /// <c>webhook-timestamp</c> is further from now than the tolerance, in the past (a replay, or a queue held
    /// too long) or in the future (a clock out of step). The signature was not checked.
    /// </summary>
    TimestampOutOfTolerance,

    /// <summary>
    /// No <c>v1</c> signature in the header matches any secret: a wrong secret, a body that is not the bytes
    /// that were sent, or no <c>v1</c> entry at all (entries of other versions are ignored).
    /// </summary>
    NoMatchingSignature,
}
