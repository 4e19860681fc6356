using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Hookline.Receiver;

/// <summary>
/// The <c>X-Razorpay-Signature</c> scheme: lowercase hex HMAC-SHA256 of the raw request body, keyed with the
/// UTF-8 bytes of the webhook secret (the whole string, including any <c>whsec_</c> prefix).
/// </summary>
public static class WebhookSignature
{
    /// <summary>The header that carries the signature.</summary>
    public const string HeaderName = "X-Razorpay-Signature";

    /// <summary>Computes the lowercase hex signature of <paramref name="body"/>.</summary>
    public static string Compute(ReadOnlySpan<byte> body, string secret)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        ComputeMac(body, Encoding.UTF8.GetBytes(secret), mac);
        return Convert.ToHexStringLower(mac);
    }

    /// <summary>
    /// Tells whether <paramref name="signature"/> is the signature of <paramref name="body"/> under
    /// <paramref name="secret"/>. The comparison takes the same time wherever the first difference is.
    /// Upper-case hex is accepted; anything that is not 64 hex characters is not a signature.
    /// </summary>
    public static bool Verify(ReadOnlySpan<byte> body, string? signature, string secret)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        return VerifyCore(body, signature, new ReadOnlySpan<string>(in secret));
    }

    /// <summary>
    /// Tells whether <paramref name="signature"/> is the signature of <paramref name="body"/> under any of
    /// <paramref name="secrets"/>, for instance the new and the old secret while one is being rotated. Each
    /// comparison takes the same time wherever the first difference is. Upper-case hex is accepted; anything
    /// that is not 64 hex characters is not a signature.
    /// </summary>
    /// <param name="body">The raw request body, exactly as received.</param>
    /// <param name="signature">The <c>X-Razorpay-Signature</c> header.</param>
    /// <param name="secrets">The candidate secrets; at least one, none empty.</param>
    public static bool Verify(ReadOnlySpan<byte> body, string? signature, IEnumerable<string> secrets)
    {
        var list = CandidateSecrets.From(secrets, nameof(secrets));
        return VerifyCore(body, signature, list);
    }

    /// <summary>Decodes a signature of exactly 64 hex characters, either case.</summary>
    internal static bool TryParseHex(ReadOnlySpan<char> signature, Span<byte> mac)
        => signature.Length == mac.Length * 2
            && Convert.FromHexString(signature, mac, out _, out var written) == OperationStatus.Done
            && written == mac.Length;

    internal static void ComputeMac(ReadOnlySpan<byte> body, ReadOnlySpan<byte> key, Span<byte> mac)
        => HMACSHA256.HashData(key, body, mac);

    private static bool VerifyCore(ReadOnlySpan<byte> body, string? signature, ReadOnlySpan<string> secrets)
    {
        Span<byte> given = stackalloc byte[HMACSHA256.HashSizeInBytes];
        if (signature is null || !TryParseHex(signature, given))
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        foreach (var secret in secrets)
        {
            ComputeMac(body, Encoding.UTF8.GetBytes(secret), expected);
            if (CryptographicOperations.FixedTimeEquals(expected, given))
            {
                return true;
            }
        }

        return false;
    }
}
