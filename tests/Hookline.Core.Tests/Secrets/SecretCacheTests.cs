using System.Security.Cryptography;
using Hookline.Core.Secrets;

namespace Hookline.Core.Tests.Secrets;

public sealed class SecretCacheTests
{
    private readonly SecretProtector _protector = new(RandomNumberGenerator.GetBytes(32));

    [Fact]
    public void Old_and_new_secret_of_one_webhook_each_decrypt_to_their_own_value()
    {
        var cache = new SecretCache(_protector);
        var old = _protector.Protect("whsec_old", "acc_1", "wh_1");
        var rotated = _protector.Protect("whsec_new", "acc_1", "wh_1");

        Assert.Equal("whsec_old", cache.Unprotect(old, "acc_1", "wh_1"));
        Assert.Equal("whsec_new", cache.Unprotect(rotated, "acc_1", "wh_1"));
        Assert.Equal("whsec_old", cache.Unprotect(old, "acc_1", "wh_1"));
        Assert.Equal("whsec_new", cache.Unprotect([.. rotated], "acc_1", "wh_1"));
    }

    [Fact]
    public void Cached_secret_is_not_handed_to_another_webhook_for_a_ciphertext_that_is_not_its_own()
    {
        var cache = new SecretCache(_protector);
        var first = _protector.Protect("whsec_one", "acc_1", "wh_1");
        cache.Unprotect(first, "acc_1", "wh_1");

        // The same bytes presented for another webhook are decrypted (and fail on the associated data).
        Assert.ThrowsAny<CryptographicException>(() => cache.Unprotect(first, "acc_1", "wh_2"));
    }

    [Fact]
    public void Cache_stays_within_its_capacity()
    {
        var cache = new SecretCache(_protector, capacity: 3);
        for (var i = 0; i < 10; i++)
        {
            var webhook = $"wh_{i}";
            Assert.Equal($"whsec_{i}", cache.Unprotect(_protector.Protect($"whsec_{i}", "acc_1", webhook), "acc_1", webhook));
            Assert.InRange(cache.Count, 1, 3);
        }
    }
}
