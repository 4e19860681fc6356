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
        HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body, mac);
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
        if (signature is null || signature.Length != HMACSHA256.HashSizeInBytes * 2)
        {
            return false;
        }

        Span<byte> given = stackalloc byte[HMACSHA256.HashSizeInBytes];
        if (Convert.FromHexString(signature, given, out _, out var written) != System.Buffers.OperationStatus.Done
            || written != given.Length)
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body, expected);
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }
}
