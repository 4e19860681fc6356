using System.Globalization;
using System.Net;
using Hookline.Core.Delivery;
using Microsoft.Extensions.Options;

namespace Hookline.Core.Destinations;

/// <summary>
/// Where Hookline may deliver (DESIGN §4). Checked twice: when a webhook is saved (<see cref="CheckAsync"/>)
/// and when a delivery connects (<see cref="DecideAsync"/>), on the addresses that will be dialled.
/// </summary>
internal sealed class UrlPolicy
{
    private readonly IDnsResolver _resolver;
    private readonly bool _allowPrivateNetworks;
    private readonly int[] _allowedPorts;
    private readonly string _portError;

    public UrlPolicy(IOptions<DeliveryOptions> options, IDnsResolver resolver)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(resolver);
        _resolver = resolver;
        _allowPrivateNetworks = options.Value.AllowPrivateNetworks;
        _allowedPorts = [.. options.Value.AllowedPorts];
        _portError = UrlErrors.Port(_allowedPorts);
    }

    /// <summary>Everything that can be decided without DNS.</summary>
    public UrlVerdict CheckSyntax(string? url)
    {
        if (string.IsNullOrEmpty(url))
        {
            return Refuse(UrlErrors.Required);
        }

        if (url.Length > UrlErrors.MaxUrlLength)
        {
            return Refuse(UrlErrors.TooLong);
        }

        // Uri silently trims surrounding whitespace and escapes it elsewhere, and other parsers split on CR/LF:
        // the URL is stored and shown as typed, so it must mean one thing to everyone.
        if (url.Any(IsSpaceOrInvisible))
        {
            return Refuse(UrlErrors.Whitespace);
        }

        // WHATWG parsers read '\' as '/', so "http://example.com\@127.0.0.1/" has a different host for them;
        // Uri turns it into '/' in paths.
        if (url.Contains('\\'))
        {
            return Refuse(UrlErrors.Backslash);
        }

        var schemeEnd = SchemeLength(url);
        if (schemeEnd < 0)
        {
            // Scheme-relative ("//host/") or no scheme at all. On Linux Uri reads "//host/" and "/path" as file URLs.
            return Refuse(url.StartsWith("//", StringComparison.Ordinal) ? UrlErrors.Scheme : UrlErrors.NotAbsolute);
        }

        var scheme = url[..schemeEnd];
        if (!IsHttp(scheme))
        {
            return Refuse(UrlErrors.Scheme);
        }

        // "http:/host" and "http:host" are relative references to some parsers and hosts to others.
        if (string.CompareOrdinal(url, schemeEnd, "://", 0, 3) != 0
            || !Uri.TryCreate(url, UriKind.Absolute, out var uri)
            || !IsHttp(uri.Scheme))
        {
            return Refuse(UrlErrors.NotAbsolute);
        }

        // Any '@' before the path makes the part before it user-info, whatever Uri makes of the rest.
        var authorityStart = schemeEnd + 3;
        var authorityEnd = url.IndexOfAny(['/', '?', '#'], authorityStart);
        var authority = authorityEnd < 0 ? url[authorityStart..] : url[authorityStart..authorityEnd];
        if (authority.Contains('@') || uri.UserInfo.Length > 0)
        {
            return Refuse(UrlErrors.UserInfo);
        }

        string idnHost;
        try
        {
            // Uri.Host is for display; IdnHost is what is resolved and dialled ("127。0。0。1" has Host type Dns
            // and IdnHost "127.0.0.1").
            idnHost = uri.IdnHost;
        }
        catch (Exception)
        {
            return Refuse(UrlErrors.InvalidHost);
        }

        var error = Precheck(DestinationHost.Parse(idnHost), uri.Port);
        return error is null ? new UrlVerdict(true, null, uri) : Refuse(error);
    }

    /// <summary>Save-time check: <see cref="CheckSyntax"/>, then the connect-time decision on the URL's host.</summary>
    public async Task<UrlVerdict> CheckAsync(string? url, CancellationToken ct)
    {
        var verdict = CheckSyntax(url);
        if (!verdict.Allowed)
        {
            return verdict;
        }

        var uri = verdict.Uri!;
        var decision = await DecideAsync(uri.IdnHost, uri.Port, ct);
        if (decision.Allowed)
        {
            return verdict;
        }

        return Refuse(decision.Reason == UrlErrors.Dns ? UrlErrors.Unresolvable : decision.Reason);
    }

    /// <summary>
    /// Connect-time decision for <paramref name="host"/> (a <see cref="Uri.IdnHost"/>) and
    /// <paramref name="port"/>. Refused if any resolved address is blocked: the connection may use any of them.
    /// A failed lookup is refused with reason <c>dns</c>; cancellation of <paramref name="ct"/> throws.
    /// </summary>
    public async Task<ConnectDecision> DecideAsync(string host, int port, CancellationToken ct)
    {
        var destination = DestinationHost.Parse(host);
        var error = Precheck(destination, port);
        if (error is not null)
        {
            return Deny(error);
        }

        if (destination.Kind == DestinationHostKind.Address)
        {
            return new ConnectDecision(true, [destination.Address!], null);
        }

        IPAddress[] answers;
        try
        {
            answers = await _resolver.ResolveAsync(destination.Host, ct);
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            // NXDOMAIN, SERVFAIL, the resolver's own timeout: the delivery fails like an unreachable host.
            return Deny(UrlErrors.Dns);
        }

        if (answers is null || answers.Length == 0)
        {
            return Deny(UrlErrors.Dns);
        }

        IPAddress[] addresses = [.. answers.Distinct()];
        if (!_allowPrivateNetworks && addresses.Any(AddressPolicy.IsBlocked))
        {
            return Deny(UrlErrors.PrivateAddress);
        }

        return new ConnectDecision(true, addresses, null);
    }

    // The host and port rules that need no DNS; shared by both checks so that save and connect time agree.
    private string? Precheck(DestinationHost destination, int port)
    {
        if (port is < IPEndPoint.MinPort + 1 or > IPEndPoint.MaxPort)
        {
            return UrlErrors.PortRange;
        }

        if (!_allowPrivateNetworks && !_allowedPorts.Contains(port))
        {
            return _portError;
        }

        return destination.Kind switch
        {
            DestinationHostKind.Invalid => UrlErrors.InvalidHost,
            DestinationHostKind.DisguisedAddress =>
                !_allowPrivateNetworks && AddressPolicy.IsBlocked(destination.Address!) ? UrlErrors.PrivateAddress : UrlErrors.InvalidHost,
            DestinationHostKind.ReservedName => _allowPrivateNetworks ? null : UrlErrors.PrivateAddress,
            DestinationHostKind.Address => !_allowPrivateNetworks && AddressPolicy.IsBlocked(destination.Address!) ? UrlErrors.PrivateAddress : null,
            _ => null,
        };
    }

    private static int SchemeLength(string url)
    {
        var colon = url.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || !char.IsAsciiLetter(url[0]))
        {
            return -1;
        }

        for (var i = 1; i < colon; i++)
        {
            if (!char.IsAsciiLetterOrDigit(url[i]) && url[i] is not ('+' or '-' or '.'))
            {
                return -1;
            }
        }

        return colon;
    }

    // Format characters (soft hyphen, zero-width space) vanish in IDN processing and on screen.
    private static bool IsSpaceOrInvisible(char c) =>
        char.IsWhiteSpace(c) || char.IsControl(c) || char.GetUnicodeCategory(c) == UnicodeCategory.Format;

    private static bool IsHttp(string scheme) =>
        scheme.Equals(Uri.UriSchemeHttp, StringComparison.OrdinalIgnoreCase)
        || scheme.Equals(Uri.UriSchemeHttps, StringComparison.OrdinalIgnoreCase);

    private static UrlVerdict Refuse(string? description) => new(false, description, null);

    private static ConnectDecision Deny(string reason) => new(false, [], reason);
}
