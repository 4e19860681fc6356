using System.Security.Cryptography;
using System.Text;
using Hookline.Core.Secrets;

namespace Hookline.Core.Tests.Secrets;

public sealed class SecretProtectorTests
{
    private readonly SecretProtector _protector = new(RandomNumberGenerator.GetBytes(32));

    [Fact]
    public void Secret_round_trips_for_the_same_account_and_webhook()
    {
        var sealedSecret = _protector.Protect("whsec_abc", "acc_1", "wh_1");
        Assert.Equal("whsec_abc", _protector.Unprotect(sealedSecret, "acc_1", "wh_1"));
    }

    [Fact]
    public void Ciphertext_does_not_contain_the_secret_and_differs_each_time()
    {
        var a = _protector.Protect("super-secret-value", "acc_1", "wh_1");
        var b = _protector.Protect("super-secret-value", "acc_1", "wh_1");
        Assert.NotEqual(a, b);
        Assert.DoesNotContain("super-secret", Encoding.UTF8.GetString(a));
    }

    [Theory]
    [InlineData("acc_2", "wh_1")]
    [InlineData("acc_1", "wh_2")]
    public void Ciphertext_moved_to_another_webhook_or_account_does_not_decrypt(string account, string webhook)
    {
        var sealedSecret = _protector.Protect("whsec_abc", "acc_1", "wh_1");
        Assert.ThrowsAny<CryptographicException>(() => _protector.Unprotect(sealedSecret, account, webhook));
    }

    [Fact]
    public void Tampered_ciphertext_does_not_decrypt()
    {
        var sealedSecret = _protector.Protect("whsec_abc", "acc_1", "wh_1");
        sealedSecret[^1] ^= 1;
        Assert.ThrowsAny<CryptographicException>(() => _protector.Unprotect(sealedSecret, "acc_1", "wh_1"));
    }

    [Fact]
    public void Generated_secrets_are_whsec_and_32_random_bytes()
    {
        var secret = SecretProtector.GenerateWebhookSecret();
        Assert.StartsWith("whsec_", secret);
        Assert.Equal(32, Convert.FromBase64String(secret["whsec_".Length..]).Length);
        Assert.NotEqual(secret, SecretProtector.GenerateWebhookSecret());
    }

    [Fact]
    public void Master_key_is_created_once_in_the_data_directory_and_reused()
    {
        var directory = Directory.CreateTempSubdirectory("hookline-key-").FullName;
        try
        {
            var first = MasterKey.Load(null, directory);
            var second = MasterKey.Load(null, directory);
            Assert.Equal(first, second);
            Assert.Equal(32, first.Length);
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(directory, MasterKey.FileName)));
            }
        }
        finally
        {
            Directory.Delete(directory, true);
        }
    }
}
