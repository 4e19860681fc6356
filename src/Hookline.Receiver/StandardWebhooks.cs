using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Hookline.Receiver;

/// <summary>
/// The Standard Webhooks scheme (<c>webhook-id</c>, <c>webhook-timestamp</c>, <c>webhook-signature</c>):
/// <c>v1,</c> + base64 HMAC-SHA256 of <c>"{id}.{timestamp}.{body}"</c>.
/// </summary>
public static partial class StandardWebhooks
{
    /// <summary>Header carrying the message id (<c>evt_…</c>).</summary>
    public const string IdHeader = "webhook-id";

    /// <summary>Header carrying the send time in Unix seconds.</summary>
    public const string TimestampHeader = "webhook-timestamp";

    /// <summary>Header carrying one or more space-separated <c>v1,&lt;base64&gt;</c> signatures.</summary>
    public const string SignatureHeader = "webhook-signature";

    /// <summary>The prefix of secrets whose remainder is the base64 of the key bytes.</summary>
    public const string SecretPrefix = "whsec_";

    /// <summary>
    /// The HMAC key for <paramref name="secret"/>: the base64-decoded remainder of a <c>whsec_</c> secret,
    /// else the UTF-8 bytes of the whole string.
    /// </summary>
    public static byte[] KeyFromSecret(string secret)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        if (secret.StartsWith(SecretPrefix, StringComparison.Ordinal))
        {
            var rest = secret.AsSpan(SecretPrefix.Length);
            var buffer = new byte[(rest.Length * 3 / 4) + 3];
            if (Convert.TryFromBase64Chars(rest, buffer, out var written) && written > 0)
            {
                return buffer.AsSpan(0, written).ToArray();
            }
        }

        return Encoding.UTF8.GetBytes(secret);
    }

    /// <summary>Computes the <c>webhook-signature</c> header value (<c>v1,&lt;base64&gt;</c>).</summary>
    public static string Sign(string messageId, long timestamp, ReadOnlySpan<byte> body, string secret)
        => Sign(messageId, timestamp, body, KeyFromSecret(secret));

    /// <summary>Computes the <c>webhook-signature</c> header value with an already derived key.</summary>
    public static string Sign(string messageId, long timestamp, ReadOnlySpan<byte> body, ReadOnlySpan<byte> key)
    {
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        ComputeMac(messageId, timestamp, body, key, mac);
        return Format(mac);
    }

    /// <summary>A <c>webhook-signature</c> value for one MAC: <c>v1,</c> and its base64.</summary>
    internal static string Format(ReadOnlySpan<byte> mac) => "v1," + Convert.ToBase64String(mac);

    internal static void ComputeMac(string messageId, long timestamp, ReadOnlySpan<byte> body, ReadOnlySpan<byte> key, Span<byte> mac)
        => ComputeMac(messageId, timestamp.ToString(CultureInfo.InvariantCulture), body, key, mac);

    /// <summary>
    /// The MAC over <c>"{id}.{timestamp}.{body}"</c>, with the timestamp as the exact text of the header: a
    /// receiver signs what it was sent, not a re-formatting of it.
    /// </summary>
    internal static void ComputeMac(string messageId, string timestamp, ReadOnlySpan<byte> body, ReadOnlySpan<byte> key, Span<byte> mac)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        ComputeMac(hmac, messageId, timestamp, body, mac);
    }

    /// <summary>
    /// The same MAC with an HMAC already keyed (and reset), which it leaves reset: for a signer that keeps its keyed
    /// HMACs between messages.
    /// </summary>
    internal static void ComputeMac(IncrementalHash keyed, string messageId, string timestamp, ReadOnlySpan<byte> body, Span<byte> mac)
    {
        keyed.AppendData(Encoding.UTF8.GetBytes(messageId + "." + timestamp + "."));
        keyed.AppendData(body);
        keyed.GetHashAndReset(mac);
    }
}
