using System.Security.Cryptography;
using System.Text;

namespace Hookline.Receiver;

/// <summary>
/// Why an <c>X-Razorpay-Signature</c> does or does not verify: a malformed signature, a body that was parsed
/// and re-serialised before verifying (the most common receiver bug), a key derived the wrong way from the
/// secret, or a wrong secret. For troubleshooting (<c>hookline verify</c>), not for the request path: it tries
/// dozens of candidate bodies, where <see cref="WebhookSignature.Verify(ReadOnlySpan{byte}, string?, string)"/>
/// computes one MAC.
/// </summary>
/// <param name="Finding">What was found.</param>
/// <param name="Explanation">What was found, in a sentence or three for a person.</param>
public sealed record SignatureDiagnosis(SignatureFinding Finding, string Explanation)
{
    /// <summary>Whether the signature verifies as given.</summary>
    public bool IsValid => Finding == SignatureFinding.Valid;

    /// <summary>Tells whether and why not <paramref name="signature"/> verifies <paramref name="body"/>.</summary>
    /// <param name="body">The body as the receiver holds it.</param>
    /// <param name="signature">The <c>X-Razorpay-Signature</c> header.</param>
    /// <param name="secret">The webhook secret the receiver verifies with.</param>
    public static SignatureDiagnosis Explain(ReadOnlySpan<byte> body, string? signature, string secret)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        if (string.IsNullOrWhiteSpace(signature))
        {
            return Malformed("No signature was given: the X-Razorpay-Signature header is missing or empty.");
        }

        if (signature.TrimStart().StartsWith("v1,", StringComparison.Ordinal))
        {
            return Malformed(
                "This is a Standard Webhooks webhook-signature value (v1,<base64>), which signs "
                + "\"{webhook-id}.{webhook-timestamp}.{body}\": verify it with those two headers "
                + "(StandardWebhooks.Verify), or give the X-Razorpay-Signature header instead.");
        }

        Span<byte> given = stackalloc byte[HMACSHA256.HashSizeInBytes];
        string? repair = null;
        if (!WebhookSignature.TryParseHex(signature, given))
        {
            repair = TryRepair(signature, given);
            if (repair is null)
            {
                return Malformed(DescribeMalformed(signature));
            }
        }

        var match = Match(body.ToArray(), given, secret);
        return repair is null ? match : Malformed($"{repair} Read as a signature all the same: {match.Explanation}");
    }

    private static SignatureDiagnosis Malformed(string explanation) => new(SignatureFinding.MalformedSignature, explanation);

    private static SignatureDiagnosis Match(byte[] body, ReadOnlySpan<byte> given, string secret)
    {
        var keys = Keys(secret);
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];

        // The body as given first, under every key: a key problem on the real bytes is the more precise finding.
        foreach (var (keyDescription, key) in keys)
        {
            WebhookSignature.ComputeMac(body, key, mac);
            if (!CryptographicOperations.FixedTimeEquals(mac, given))
            {
                continue;
            }

            return keyDescription is null
                ? new(SignatureFinding.Valid, "The signature matches this body under this secret.")
                : new(SignatureFinding.KeyMismatch,
                    $"The signature matches this body when keyed with {keyDescription}. An X-Razorpay-Signature is "
                    + "keyed with the UTF-8 bytes of the whole secret string, whsec_ prefix included, as Razorpay's "
                    + "SDKs do.");
        }

        var variants = BodyVariants.Of(body);
        foreach (var (keyDescription, key) in keys)
        {
            foreach (var (bodyDescription, bytes) in variants)
            {
                WebhookSignature.ComputeMac(bytes, key, mac);
                if (!CryptographicOperations.FixedTimeEquals(mac, given))
                {
                    continue;
                }

                var keyed = keyDescription is null ? "" : $", keyed with {keyDescription}";
                return new(SignatureFinding.BodyReserialized,
                    $"The signature matches the body {bodyDescription}{keyed}. The body given is not the bytes that "
                    + "were sent: verify the raw request body, before any JSON parsing or re-encoding.");
            }
        }

        var tried = BodyVariants.IsJson(body)
            ? "nor any common re-serialisation of the same JSON"
            : "nor the body with other whitespace or line endings (it is not JSON, so no re-serialisation was tried)";
        return new(SignatureFinding.WrongSecret,
            $"The signature matches neither this body under this secret, {tried}. Most likely the secret is not "
            + "the one that signed the event (a test-mode secret for a live event or the other way round, or a "
            + "secret rotated since the event was created); otherwise the body's content is not what was sent.");
    }

    /// <summary>The key the scheme uses (with no description), then keys a confused signer might have used.</summary>
    private static List<(string? Description, byte[] Key)> Keys(string secret)
    {
        var keys = new List<(string?, byte[])> { (null, Encoding.UTF8.GetBytes(secret)) };
        void Add(string description, byte[] key)
        {
            if (key.Length > 0 && !keys.Exists(k => k.Item2.AsSpan().SequenceEqual(key)))
            {
                keys.Add((description, key));
            }
        }

        Add("the secret without the whitespace around it", Encoding.UTF8.GetBytes(secret.Trim()));
        if (secret.StartsWith(StandardWebhooks.SecretPrefix, StringComparison.Ordinal))
        {
            Add("the base64-decoded key of the whsec_ secret (the Standard Webhooks key)", StandardWebhooks.KeyFromSecret(secret));
            Add("the secret without its whsec_ prefix", Encoding.UTF8.GetBytes(secret[StandardWebhooks.SecretPrefix.Length..]));
        }

        return keys;
    }

    /// <summary>Reads a signature with a fixable defect into <paramref name="mac"/> and says what the defect is.</summary>
    private static string? TryRepair(string signature, Span<byte> mac)
    {
        var cleaned = signature.Trim().Trim('"', '\'').Trim();
        if (cleaned.StartsWith("sha256=", StringComparison.OrdinalIgnoreCase))
        {
            cleaned = cleaned["sha256=".Length..];
        }

        if (WebhookSignature.TryParseHex(cleaned, mac))
        {
            return "The signature has extra characters around its 64 hex digits (whitespace, quotes or a \"sha256=\" prefix).";
        }

        if (Convert.TryFromBase64String(cleaned, mac, out var written) && written == mac.Length)
        {
            return "The signature is written in base64; an X-Razorpay-Signature is the MAC in hex (64 characters).";
        }

        return null;
    }

    private static string DescribeMalformed(string signature)
    {
        var firstNonHex = signature.AsSpan().IndexOfAnyExcept("0123456789abcdefABCDEF");
        var hex = firstNonHex < 0
            ? ""
            : $" Character {firstNonHex + 1} ('{signature[firstNonHex]}') is not a hex digit.";
        return signature.Length == HMACSHA256.HashSizeInBytes * 2
            ? $"The signature is not hexadecimal.{hex}"
            : $"The signature has {signature.Length} characters; an X-Razorpay-Signature is 64 hex characters (a "
              + $"lowercase hex HMAC-SHA256), so it was cut short or has something added.{hex}";
    }
}
