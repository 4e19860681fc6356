namespace Hookline.Receiver;

/// <summary>The secrets a receiver accepts at once, for instance the new and the old one during a rotation.</summary>
internal static class CandidateSecrets
{
    /// <summary>Copies the candidates, failing on none or on a null or empty one: both are the caller's bug.</summary>
    public static string[] From(IEnumerable<string> secrets, string paramName)
    {
        ArgumentNullException.ThrowIfNull(secrets, paramName);
        string[] list = [.. secrets];
        if (list.Length == 0)
        {
            throw new ArgumentException("At least one secret is needed.", paramName);
        }

        if (Array.Exists(list, string.IsNullOrEmpty))
        {
            throw new ArgumentException("A secret is null or empty.", paramName);
        }

        return list;
    }
}
