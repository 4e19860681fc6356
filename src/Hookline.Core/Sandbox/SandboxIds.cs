using System.Security.Cryptography;
using System.Text;

namespace Hookline.Core.Sandbox;

/// <summary>Where sandbox entity ids come from: random in the server, seeded when the catalogue's samples are generated.</summary>
internal interface ISandboxIds
{
    /// <summary>A Razorpay-form id: <paramref name="prefix"/> and 14 base62 characters.</summary>
    string New(string prefix);
}

internal sealed class RandomSandboxIds : ISandboxIds
{
    public string New(string prefix) => Ids.New(prefix);
}

/// <summary>The same ids for the same seed, every run: the catalogue's samples stay byte-stable.</summary>
internal sealed class SeededSandboxIds(string seed) : ISandboxIds
{
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private int _counter;

    public string New(string prefix)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{seed}/{++_counter}"));
        var chars = new char[Ids.RandomLength];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = Alphabet[hash[i] % Alphabet.Length];
        }

        return prefix + new string(chars);
    }
}
