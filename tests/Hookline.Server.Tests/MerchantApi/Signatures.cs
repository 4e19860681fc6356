using System.Security.Cryptography;
using System.Text;
using Hookline.Server.Tests.Infrastructure;

namespace Hookline.Server.Tests.MerchantApi;

/// <summary>
/// Signatures computed here with <see cref="HMACSHA256"/>, independently of the server's signing code, the
/// way a Razorpay SDK and a Standard Webhooks library would check them.
/// </summary>
internal static class Signatures
{
    /// <summary><c>X-Razorpay-Signature</c>: lowercase hex HMAC-SHA256 of the raw body keyed with the secret's UTF-8 bytes.</summary>
    public static string Razorpay(byte[] body, string secret)
        => Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    /// <summary><c>webhook-signature</c> for a secret that is not of the <c>whsec_</c> form (key = its UTF-8 bytes).</summary>
    public static string StandardWebhooks(ReceivedRequest request, string secret)
    {
        var signed = Encoding.UTF8.GetBytes($"{request.Header("webhook-id")}.{request.Header("webhook-timestamp")}.").Concat(request.Body).ToArray();
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed));
    }

    /// <summary>Asserts both signatures of <paramref name="request"/> verify with <paramref name="secret"/>.</summary>
    public static void AssertSignedWith(ReceivedRequest request, string secret, string what)
    {
        Assert.True(Razorpay(request.Body, secret) == request.Header("X-Razorpay-Signature"), $"{what}: X-Razorpay-Signature does not verify with the expected secret");
        Assert.True(StandardWebhooks(request, secret) == request.Header("webhook-signature"), $"{what}: webhook-signature does not verify with the expected secret");
    }
}
