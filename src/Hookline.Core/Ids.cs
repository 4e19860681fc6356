using System.Security.Cryptography;

namespace Hookline.Core;

/// <summary>Prefixed random identifiers in Razorpay's shape: a prefix and 14 base62 characters.</summary>
internal static class Ids
{
    public const int RandomLength = 14;
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    public const string Account = "acc_";
    public const string Webhook = "wh_";
    public const string Event = "evt_";
    public const string Delivery = "dlv_";
    public const string Secret = "whs_";
    public const string TestKey = "hk_test_";
    public const string LiveKey = "hk_live_";

    public static string New(string prefix) => prefix + RandomString(RandomLength);

    /// <summary>Uniform base62 string from the OS CSPRNG (rejection-free: 62 does not divide 256, so we use GetItems).</summary>
    public static string RandomString(int length) => new(RandomNumberGenerator.GetItems<char>(Alphabet, length));

    public static bool IsValid(string? id, string prefix)
        => id is not null
           && id.Length == prefix.Length + RandomLength
           && id.StartsWith(prefix, StringComparison.Ordinal)
           && id.AsSpan(prefix.Length).IndexOfAnyExcept(Alphabet) < 0;
}
