using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Hookline.Receiver;

namespace Hookline.Core.Delivery;

/// <summary>
/// Signs delivery bodies under one webhook secret, both ways: Razorpay's <c>X-Razorpay-Signature</c> and Standard
/// Webhooks' <c>webhook-signature</c>. The same bytes as <see cref="WebhookSignature.Compute"/> and
/// <see cref="StandardWebhooks.Sign(string, long, ReadOnlySpan{byte}, string)"/>, which the tests hold it to; the
/// Standard Webhooks message and header are built by the receiver library's own code, given a keyed HMAC.
/// </summary>
/// <remarks>
/// Keying an HMAC costs more than hashing a kilobyte with it: OpenSSL looks the algorithm up, builds a context and hashes
/// the padded key twice. A signer keeps a few keyed contexts per scheme and resets them between deliveries, so a busy
/// webhook pays for the key once, not twice per delivery (docs/benchmarks.md, "Before and after"). A context is used by
/// one thread at a time: taken from its slot, used, and put back, or disposed when every slot is full.
/// </remarks>
internal sealed class DeliverySigner
{
    /// <summary>Keyed contexts kept per scheme: signing takes microseconds, so a few serve many deliveries in flight.</summary>
    private const int Kept = 4;

    private readonly Keyed _razorpay;
    private readonly Keyed _standard;

    public DeliverySigner(string secret)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        _razorpay = new Keyed(Encoding.UTF8.GetBytes(secret));
        _standard = new Keyed(StandardWebhooks.KeyFromSecret(secret));
    }

    /// <summary>The <c>X-Razorpay-Signature</c> value: lower-case hex HMAC-SHA256 of the body.</summary>
    public string RazorpaySignature(ReadOnlySpan<byte> body)
    {
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        var hmac = _razorpay.Take();
        hmac.AppendData(body);
        hmac.GetHashAndReset(mac);
        _razorpay.Return(hmac);
        return Convert.ToHexStringLower(mac);
    }

    /// <summary>The <c>webhook-signature</c> value: <c>v1,</c> and the base64 HMAC-SHA256 of <c>"{id}.{timestamp}.{body}"</c>.</summary>
    public string StandardSignature(string messageId, long timestamp, ReadOnlySpan<byte> body)
    {
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        var hmac = _standard.Take();
        StandardWebhooks.ComputeMac(hmac, messageId, timestamp.ToString(CultureInfo.InvariantCulture), body, mac);
        _standard.Return(hmac);
        return StandardWebhooks.Format(mac);
    }

    /// <summary>One scheme's key and the keyed contexts kept for it.</summary>
    private sealed class Keyed(byte[] key)
    {
        private readonly IncrementalHash?[] _kept = new IncrementalHash?[Kept];

        public IncrementalHash Take()
        {
            for (var i = 0; i < _kept.Length; i++)
            {
                if (Interlocked.Exchange(ref _kept[i], null) is { } hmac)
                {
                    return hmac;
                }
            }

            return IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        }

        /// <summary>Keeps a context that has just been reset (<see cref="IncrementalHash.GetHashAndReset(Span{byte})"/>).</summary>
        public void Return(IncrementalHash hmac)
        {
            for (var i = 0; i < _kept.Length; i++)
            {
                if (Interlocked.CompareExchange(ref _kept[i], hmac, null) is null)
                {
                    return;
                }
            }

            hmac.Dispose();
        }
    }
}
