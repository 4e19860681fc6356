namespace Hookline.Receiver;

/// <summary>What <see cref="SignatureDiagnosis.Explain"/> found about an <c>X-Razorpay-Signature</c>.</summary>
public enum SignatureFinding
{
    /// <summary>The signature matches the body under the secret.</summary>
    Valid,

    /// <summary>
    /// The value is not a signature of this scheme: not 64 hex characters (truncated, quoted, base64, or a
    /// Standard Webhooks <c>v1,…</c> value).
    /// </summary>
    MalformedSignature,

    /// <summary>
    /// The signature matches another serialisation of the same JSON (different spacing, indentation, escapes,
    /// line endings): the body was parsed and written out again before it was verified. Verify the raw bytes.
    /// </summary>
    BodyReserialized,

    /// <summary>
    /// The signature matches the body under another key derived from the same secret (the base64-decoded
    /// <c>whsec_</c> key, the secret without its prefix or without surrounding whitespace).
    /// </summary>
    KeyMismatch,

    /// <summary>
    /// Nothing matches: the secret is not the one that signed (another mode, or a rotated secret), or the
    /// body's content differs from what was sent, beyond formatting.
    /// </summary>
    WrongSecret,
}
