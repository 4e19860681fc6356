using System.Security.Cryptography;
using System.Text;

namespace Hookline.Core.Accounts;

/// <summary>
/// Key secrets are 32 random base62 characters (~190 bits), so a plain SHA-256 is enough to store them:
/// a slow password hash protects guessable secrets, and these are not guessable.
/// </summary>
internal static class KeySecrets
{
    public const int Length = 32;

    public static string Generate() => Ids.RandomString(Length);

    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    public static bool Matches(string presented, byte[] storedHash)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(presented), hash);
        return CryptographicOperations.FixedTimeEquals(hash, storedHash);
    }
}
