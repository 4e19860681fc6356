using System.Security.Cryptography;
using System.Text;

namespace Hookline.Core.Secrets;

/// <summary>
/// Encrypts webhook secrets at rest with AES-256-GCM. The account and webhook ids are the associated data,
/// so a ciphertext copied onto another webhook's row fails to decrypt instead of signing for the wrong merchant.
/// Layout: nonce (12) | tag (16) | ciphertext.
/// </summary>
internal sealed class SecretProtector
{
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly byte[] _key;

    public SecretProtector(byte[] masterKey)
    {
        if (masterKey.Length != 32)
        {
            throw new ArgumentException("The master key must be 32 bytes.", nameof(masterKey));
        }

        _key = masterKey;
    }

    public byte[] Protect(string secret, string accountId, string webhookId)
    {
        var plain = Encoding.UTF8.GetBytes(secret);
        var output = new byte[NonceSize + TagSize + plain.Length];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plain, output.AsSpan(NonceSize + TagSize), output.AsSpan(NonceSize, TagSize), AssociatedData(accountId, webhookId));
        CryptographicOperations.ZeroMemory(plain);
        return output;
    }

    public string Unprotect(byte[] protectedSecret, string accountId, string webhookId)
    {
        if (protectedSecret.Length < NonceSize + TagSize)
        {
            throw new CryptographicException("The stored secret is truncated.");
        }

        var plain = new byte[protectedSecret.Length - NonceSize - TagSize];
        using var aes = new AesGcm(_key, TagSize);
        aes.Decrypt(
            protectedSecret.AsSpan(0, NonceSize),
            protectedSecret.AsSpan(NonceSize + TagSize),
            protectedSecret.AsSpan(NonceSize, TagSize),
            plain,
            AssociatedData(accountId, webhookId));
        return Encoding.UTF8.GetString(plain);
    }

    /// <summary>Generated secrets: <c>whsec_</c> + base64 of 32 random bytes, valid for both signature schemes.</summary>
    public static string GenerateWebhookSecret() => "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private static byte[] AssociatedData(string accountId, string webhookId) => Encoding.UTF8.GetBytes(accountId + "/" + webhookId);
}
