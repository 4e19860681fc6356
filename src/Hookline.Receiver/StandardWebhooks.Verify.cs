using System.Globalization;
using System.Security.Cryptography;

namespace Hookline.Receiver;

public static partial class StandardWebhooks
{
    /// <summary>
    /// How far <c>webhook-timestamp</c> may be from now, either way, when no tolerance is given: five minutes,
    /// the Standard Webhooks recommendation.
    /// </summary>
    public static readonly TimeSpan DefaultTolerance = TimeSpan.FromMinutes(5);

    // Past this, DateTimeOffset.FromUnixTimeSeconds throws; such a timestamp is simply too far in the future.
    private static readonly long MaxUnixSeconds = DateTimeOffset.MaxValue.ToUnixTimeSeconds();

    // Secrets up to this many have their MACs on the stack; more (unusual) go on the heap.
    private const int StackMacs = 4;

    /// <summary>
    /// Verifies a Standard Webhooks request against one secret, with the clock of
    /// <paramref name="timeProvider"/> and the <see cref="DefaultTolerance"/>.
    /// </summary>
    /// <param name="messageId">The <c>webhook-id</c> header, as received.</param>
    /// <param name="timestamp">The <c>webhook-timestamp</c> header (Unix seconds), as received.</param>
    /// <param name="signatureHeader">
    /// The <c>webhook-signature</c> header: one or more space-separated <c>v1,&lt;base64&gt;</c> entries (the
    /// sender lists several while it rotates its secret). Entries of other versions are ignored.
    /// </param>
    /// <param name="body">The raw request body, exactly as received (not parsed and re-serialised).</param>
    /// <param name="secret">The webhook secret (<c>whsec_…</c> or any other string).</param>
    /// <param name="timeProvider">The clock the timestamp is checked against.</param>
    /// <returns><see cref="SignatureCheck.Valid"/>, or the first reason the request does not verify.</returns>
    public static SignatureCheck Verify(
        string? messageId, string? timestamp, string? signatureHeader, ReadOnlySpan<byte> body,
        string secret, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        return Verify(messageId, timestamp, signatureHeader, body, secret, timeProvider.GetUtcNow(), DefaultTolerance);
    }

    /// <summary>
    /// Verifies a Standard Webhooks request against several secrets (for instance the new and the old one
    /// while a secret is being rotated), with the clock of <paramref name="timeProvider"/> and the
    /// <see cref="DefaultTolerance"/>.
    /// </summary>
    /// <param name="messageId">The <c>webhook-id</c> header, as received.</param>
    /// <param name="timestamp">The <c>webhook-timestamp</c> header (Unix seconds), as received.</param>
    /// <param name="signatureHeader">
    /// The <c>webhook-signature</c> header: one or more space-separated <c>v1,&lt;base64&gt;</c> entries (the
    /// sender lists several while it rotates its secret). Entries of other versions are ignored.
    /// </param>
    /// <param name="body">The raw request body, exactly as received (not parsed and re-serialised).</param>
    /// <param name="secrets">The candidate secrets; at least one, none empty.</param>
    /// <param name="timeProvider">The clock the timestamp is checked against.</param>
    /// <returns><see cref="SignatureCheck.Valid"/>, or the first reason the request does not verify.</returns>
    public static SignatureCheck Verify(
        string? messageId, string? timestamp, string? signatureHeader, ReadOnlySpan<byte> body,
        IEnumerable<string> secrets, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        return Verify(messageId, timestamp, signatureHeader, body, secrets, timeProvider.GetUtcNow(), DefaultTolerance);
    }

    /// <summary>Verifies a Standard Webhooks request against one secret.</summary>
    /// <param name="messageId">The <c>webhook-id</c> header, as received.</param>
    /// <param name="timestamp">The <c>webhook-timestamp</c> header (Unix seconds), as received.</param>
    /// <param name="signatureHeader">
    /// The <c>webhook-signature</c> header: one or more space-separated <c>v1,&lt;base64&gt;</c> entries (the
    /// sender lists several while it rotates its secret). Entries of other versions are ignored.
    /// </param>
    /// <param name="body">The raw request body, exactly as received (not parsed and re-serialised).</param>
    /// <param name="secret">The webhook secret (<c>whsec_…</c> or any other string).</param>
    /// <param name="now">The current time.</param>
    /// <param name="tolerance">How far the timestamp may be from <paramref name="now"/>, either way.</param>
    /// <returns><see cref="SignatureCheck.Valid"/>, or the first reason the request does not verify.</returns>
    public static SignatureCheck Verify(
        string? messageId, string? timestamp, string? signatureHeader, ReadOnlySpan<byte> body,
        string secret, DateTimeOffset now, TimeSpan tolerance)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        return VerifyCore(messageId, timestamp, signatureHeader, body, new ReadOnlySpan<string>(in secret), now, tolerance);
    }

    /// <summary>
    /// Verifies a Standard Webhooks request against several secrets: it is valid when any <c>v1</c> signature
    /// of the header matches any of the secrets. Signatures are compared in constant time.
    /// </summary>
    /// <param name="messageId">The <c>webhook-id</c> header, as received.</param>
    /// <param name="timestamp">The <c>webhook-timestamp</c> header (Unix seconds), as received.</param>
    /// <param name="signatureHeader">
    /// The <c>webhook-signature</c> header: one or more space-separated <c>v1,&lt;base64&gt;</c> entries (the
    /// sender lists several while it rotates its secret). Entries of other versions are ignored.
    /// </param>
    /// <param name="body">The raw request body, exactly as received (not parsed and re-serialised).</param>
    /// <param name="secrets">The candidate secrets; at least one, none empty.</param>
    /// <param name="now">The current time.</param>
    /// <param name="tolerance">How far the timestamp may be from <paramref name="now"/>, either way.</param>
    /// <returns><see cref="SignatureCheck.Valid"/>, or the first reason the request does not verify.</returns>
    public static SignatureCheck Verify(
        string? messageId, string? timestamp, string? signatureHeader, ReadOnlySpan<byte> body,
        IEnumerable<string> secrets, DateTimeOffset now, TimeSpan tolerance)
    {
        var list = CandidateSecrets.From(secrets, nameof(secrets));
        return VerifyCore(messageId, timestamp, signatureHeader, body, list, now, tolerance);
    }

    private static SignatureCheck VerifyCore(
        string? messageId, string? timestamp, string? signatureHeader, ReadOnlySpan<byte> body,
        ReadOnlySpan<string> secrets, DateTimeOffset now, TimeSpan tolerance)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tolerance, TimeSpan.Zero);
        if (string.IsNullOrEmpty(messageId) || string.IsNullOrEmpty(timestamp) || string.IsNullOrEmpty(signatureHeader))
        {
            return SignatureCheck.MissingHeaders;
        }

        // NumberStyles.None: ASCII digits only; no sign, no spaces, no thousands separators.
        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return SignatureCheck.InvalidTimestamp;
        }

        if (seconds > MaxUnixSeconds)
        {
            return SignatureCheck.TimestampOutOfTolerance;
        }

        var age = now - DateTimeOffset.FromUnixTimeSeconds(seconds);
        if (age > tolerance || age < -tolerance)
        {
            return SignatureCheck.TimestampOutOfTolerance;
        }

        const int size = HMACSHA256.HashSizeInBytes;
        var expected = secrets.Length <= StackMacs ? stackalloc byte[StackMacs * size] : new byte[secrets.Length * size];
        for (var i = 0; i < secrets.Length; i++)
        {
            ComputeMac(messageId, timestamp, body, KeyFromSecret(secrets[i]), expected.Slice(i * size, size));
        }

        Span<byte> given = stackalloc byte[size];
        var header = signatureHeader.AsSpan();
        foreach (var range in header.Split(' '))
        {
            if (!TryReadV1(header[range], given))
            {
                continue;
            }

            for (var i = 0; i < secrets.Length; i++)
            {
                if (CryptographicOperations.FixedTimeEquals(expected.Slice(i * size, size), given))
                {
                    return SignatureCheck.Valid;
                }
            }
        }

        return SignatureCheck.NoMatchingSignature;
    }

    /// <summary>Reads a <c>v1,&lt;base64&gt;</c> entry holding exactly one HMAC-SHA256.</summary>
    private static bool TryReadV1(ReadOnlySpan<char> entry, Span<byte> mac)
    {
        var comma = entry.IndexOf(',');
        if (comma < 0 || !entry[..comma].SequenceEqual("v1"))
        {
            return false;
        }

        // A destination of exactly 32 bytes rejects longer values; shorter ones are caught by the count.
        return Convert.TryFromBase64Chars(entry[(comma + 1)..], mac, out var written) && written == mac.Length;
    }
}
