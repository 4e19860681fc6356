using System.Security.Cryptography;
using System.Text;
using Hookline.Core;
using Hookline.Core.Secrets;

namespace Hookline.Server.Hosting;

/// <summary>The platform bearer token, held only as a hash in memory once loaded.</summary>
internal sealed class PlatformToken
{
    public const string FileName = "platform.token";
    private readonly byte[] _hash;

    private PlatformToken(string token, string? generatedNow)
    {
        _hash = SHA256.HashData(Encoding.UTF8.GetBytes(token));
        GeneratedNow = generatedNow;
    }

    /// <summary>Set only on the first start, so the token can be printed once.</summary>
    public string? GeneratedNow { get; }

    public static PlatformToken Load(string? configured, string dataDirectory)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return new PlatformToken(configured.Trim(), null);
        }

        var path = Path.Combine(dataDirectory, FileName);
        if (File.Exists(path))
        {
            return new PlatformToken(File.ReadAllText(path).Trim(), null);
        }

        var token = "hlp_" + Ids.RandomString(40);
        PrivateFile.WriteNew(path, token);
        return new PlatformToken(token, token);
    }

    public bool Matches(string presented)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(presented), hash);
        return CryptographicOperations.FixedTimeEquals(hash, _hash);
    }
}
