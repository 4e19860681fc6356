using System.Security.Cryptography;
using System.Text;
using Hookline.Core.Delivery;
using Hookline.Core.Secrets;
using Hookline.Receiver;

namespace Hookline.Core.Tests.Secrets;

public sealed class SecretCacheTests
{
    private readonly SecretProtector _protector = new(RandomNumberGenerator.GetBytes(32));

    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"entity":"event"}""");

    /// <summary>Which secret a signer signs with, told by its signature (a signer does not hand its secret out).</summary>
    private static void AssertSignsWith(string secret, DeliverySigner signer)
        => Assert.Equal(WebhookSignature.Compute(Body, secret), signer.RazorpaySignature(Body));

    [Fact]
    public void Old_and_new_secret_of_one_webhook_each_sign_with_their_own_value()
    {
        var cache = new SecretCache(_protector);
        var old = _protector.Protect("whsec_old", "acc_1", "wh_1");
        var rotated = _protector.Protect("whsec_new", "acc_1", "wh_1");

        AssertSignsWith("whsec_old", cache.SignerFor(old, "acc_1", "wh_1"));
        AssertSignsWith("whsec_new", cache.SignerFor(rotated, "acc_1", "wh_1"));
        AssertSignsWith("whsec_old", cache.SignerFor(old, "acc_1", "wh_1"));
        AssertSignsWith("whsec_new", cache.SignerFor([.. rotated], "acc_1", "wh_1"));
    }

    [Fact]
    public void Cached_secret_is_not_handed_to_another_webhook_for_a_ciphertext_that_is_not_its_own()
    {
        var cache = new SecretCache(_protector);
        var first = _protector.Protect("whsec_one", "acc_1", "wh_1");
        var signer = cache.SignerFor(first, "acc_1", "wh_1");
        Assert.Same(signer, cache.SignerFor([.. first], "acc_1", "wh_1"));

        // The same bytes presented for another webhook are decrypted (and fail on the associated data).
        Assert.ThrowsAny<CryptographicException>(() => cache.SignerFor(first, "acc_1", "wh_2"));
    }

    [Fact]
    public void Cache_stays_within_its_capacity()
    {
        var cache = new SecretCache(_protector, capacity: 3);
        for (var i = 0; i < 10; i++)
        {
            var webhook = $"wh_{i}";
            AssertSignsWith($"whsec_{i}", cache.SignerFor(_protector.Protect($"whsec_{i}", "acc_1", webhook), "acc_1", webhook));
            Assert.InRange(cache.Count, 1, 3);
        }
    }
}
