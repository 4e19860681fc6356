using System.Security.Cryptography;
using System.Text;

namespace Hookline.Receiver.Tests;

public sealed class WebhookSignatureTests
{
    private const string Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    private static readonly byte[] Body = Encoding.UTF8.GetBytes(
        """{"entity":"event","account_id":"acc_BFQ7uQEaa7j2z7","event":"payment.captured","contains":["payment"],"payload":{"payment":{"entity":{"id":"pay_DESlfW9H8K9uqM","amount":100}}},"created_at":1700000000}""");

    [Fact]
    public void Signature_is_64_lowercase_hex_characters()
    {
        var signature = WebhookSignature.Compute(Body, Secret);

        Assert.Matches("^[0-9a-f]{64}$", signature);
    }

    [Fact]
    public void Tampered_body_fails_verification()
    {
        var signature = WebhookSignature.Compute(Body, Secret);
        var tampered = (byte[])Body.Clone();
        tampered[^3] ^= 0x01;

        Assert.False(WebhookSignature.Verify(tampered, signature, Secret));
    }

    [Fact]
    public void Signature_with_any_one_hex_digit_flipped_fails()
    {
        var signature = WebhookSignature.Compute(Body, Secret);

        for (var i = 0; i < signature.Length; i++)
        {
            var flipped = signature.ToCharArray();
            flipped[i] = flipped[i] == '0' ? '1' : '0';
            Assert.False(WebhookSignature.Verify(Body, new string(flipped), Secret), $"flipped at {i}");
        }
    }

    [Fact]
    public void Uppercase_hex_signature_is_accepted()
    {
        var signature = WebhookSignature.Compute(Body, Secret).ToUpperInvariant();

        Assert.True(WebhookSignature.Verify(Body, signature, Secret));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(63)]
    [InlineData(65)]
    [InlineData(128)]
    public void Signature_of_the_wrong_length_is_rejected(int length)
    {
        var signature = WebhookSignature.Compute(Body, Secret);
        var wrong = length <= 64 ? signature[..length] : (signature + signature)[..length];

        Assert.False(WebhookSignature.Verify(Body, wrong, Secret));
    }

    [Fact]
    public void Signature_with_surrounding_whitespace_is_rejected()
    {
        var signature = WebhookSignature.Compute(Body, Secret);

        Assert.False(WebhookSignature.Verify(Body, " " + signature, Secret));
        Assert.False(WebhookSignature.Verify(Body, signature + "\n", Secret));
    }

    [Fact]
    public void Missing_signature_is_rejected()
    {
        Assert.False(WebhookSignature.Verify(Body, null, Secret));
    }

    [Fact]
    public void Any_candidate_secret_verifies_during_rotation()
    {
        var signature = WebhookSignature.Compute(Body, "old-secret");

        Assert.True(WebhookSignature.Verify(Body, signature, ["new-secret", "old-secret"]));
        Assert.False(WebhookSignature.Verify(Body, signature, ["new-secret", "another-secret"]));
    }

    [Fact]
    public void No_candidate_secrets_is_a_caller_bug()
    {
        var signature = WebhookSignature.Compute(Body, Secret);

        Assert.Throws<ArgumentException>(() => WebhookSignature.Verify(Body, signature, Array.Empty<string>()));
        Assert.Throws<ArgumentException>(() => WebhookSignature.Verify(Body, signature, [Secret, ""]));
    }

    [Fact]
    public void Razorpay_SDK_style_verification_agrees()
    {
        // What Razorpay's SDKs do: HMAC-SHA256 keyed with the whole secret string (whsec_ prefix and all),
        // lowercase hex, compared with the header.
        static string SdkSignature(byte[] payload, string secret)
        {
            using var hmac = new HMACSHA256(Encoding.UTF8.GetBytes(secret));
            return Convert.ToHexString(hmac.ComputeHash(payload)).ToLowerInvariant();
        }

        var ours = WebhookSignature.Compute(Body, Secret);

        Assert.Equal(SdkSignature(Body, Secret), ours);
        Assert.True(WebhookSignature.Verify(Body, SdkSignature(Body, Secret), Secret));
    }

    [Fact]
    public void Whsec_secret_verifies_both_schemes_with_the_same_string()
    {
        const string id = "evt_Hk9sPq2LmN4xYz";
        var now = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        var razorpay = WebhookSignature.Compute(Body, Secret);
        var standard = StandardWebhooks.Sign(id, now.ToUnixTimeSeconds(), Body, Secret);

        Assert.True(WebhookSignature.Verify(Body, razorpay, Secret));
        Assert.Equal(SignatureCheck.Valid, StandardWebhooks.Verify(id, "1700000000", standard, Body, Secret, now, TimeSpan.FromMinutes(5)));

        // One string, two keys: the Razorpay scheme keys with the whole string, Standard Webhooks decodes it.
        Assert.Equal(Convert.FromBase64String(Secret["whsec_".Length..]), StandardWebhooks.KeyFromSecret(Secret));
    }
}
