namespace Hookline.Core.Destinations;

/// <summary>The descriptions a refused URL gets; the API returns them to merchants as they are.</summary>
internal static class UrlErrors
{
    /// <summary>Razorpay's exact text for a blocked address or name, literal or resolved (DESIGN §4).</summary>
    public const string PrivateAddress = "private ip found for host";

    public const string Required = "url is required";
    public const string TooLong = "url must be at most 255 characters";
    public const string Whitespace = "url must not contain whitespace or control characters";
    public const string Backslash = "url must not contain backslashes";
    public const string Scheme = "url must use http or https";
    public const string NotAbsolute = "url is not a valid absolute URL";
    public const string UserInfo = "url must not contain user information";
    public const string PortRange = "url port must be between 1 and 65535";
    public const string InvalidHost = "url host is not a valid host name";
    public const string Unresolvable = "url host could not be resolved";

    /// <summary><see cref="ConnectDecision.Reason"/> when the host could not be resolved.</summary>
    public const string Dns = "dns";

    public const int MaxUrlLength = 255;

    public static string Port(IReadOnlyList<int> allowedPorts) => allowedPorts.Count switch
    {
        0 => "url port is not allowed",
        1 => $"url port must be {allowedPorts[0]}",
        _ => $"url port must be {string.Join(", ", allowedPorts.Take(allowedPorts.Count - 1))} or {allowedPorts[^1]}",
    };
}
