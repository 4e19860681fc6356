using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Hookline.Core.Destinations;

internal enum DestinationHostKind
{
    /// <summary>Not something we would hand to a resolver or a socket.</summary>
    Invalid,

    /// <summary>An IP literal, in whatever notation <see cref="IPAddress.TryParse(string?, out IPAddress?)"/> reads.</summary>
    Address,

    /// <summary>A name that reads as an IP address only after Unicode folding (fullwidth digits, ideographic dots).</summary>
    DisguisedAddress,

    /// <summary>localhost, *.local, single-label names, zone ids and the like.</summary>
    ReservedName,

    /// <summary>A name for DNS.</summary>
    Name,
}

/// <summary>
/// What a URL's host is. Callers pass <see cref="Uri.IdnHost"/> (the ASCII form that is actually resolved and
/// dialled), never <see cref="Uri.Host"/>: a Unicode host here is refused.
/// </summary>
internal readonly record struct DestinationHost(DestinationHostKind Kind, IPAddress? Address, string Host)
{
    private const int MaxNameLength = 253;
    private const int MaxLabelLength = 63;

    private static readonly string[] ReservedSuffixes = [".localhost", ".local", ".internal", ".localdomain", ".home.arpa"];

    public static DestinationHost Parse(string? host)
    {
        if (string.IsNullOrEmpty(host))
        {
            return new(DestinationHostKind.Invalid, null, string.Empty);
        }

        // A zone id ("fe80::1%eth0", IdnHost keeps it as "%25eth0") names a local interface.
        if (host.Contains('%'))
        {
            return new(DestinationHostKind.ReservedName, null, host);
        }

        var bare = host.Length > 2 && host[0] == '[' && host[^1] == ']' ? host[1..^1] : host;
        if (bare.Contains(':'))
        {
            // IPAddress.TryParse also accepts "[::1]:80"; only the address itself is a host.
            return bare.All(c => char.IsAsciiHexDigit(c) || c is ':' or '.')
                && IPAddress.TryParse(bare, out var v6)
                && v6.AddressFamily == AddressFamily.InterNetworkV6
                ? new(DestinationHostKind.Address, v6, bare)
                : new(DestinationHostKind.Invalid, null, host);
        }

        // "127.0.0.1." and "localhost." are the same destinations as without the root dot.
        var name = bare.EndsWith('.') ? bare[..^1] : bare;
        if (name.Length is 0 or > MaxNameLength || !Ascii.IsValid(name))
        {
            return new(DestinationHostKind.Invalid, null, host);
        }

        // The same parser Dns.GetHostAddresses and sockets apply first: decimal, octal, hex and short forms.
        if (IPAddress.TryParse(name, out var v4))
        {
            return new(DestinationHostKind.Address, v4, name);
        }

        var ascii = name.ToLowerInvariant();
        var unicode = ToUnicode(ascii);
        if (unicode is null)
        {
            return new(DestinationHostKind.Invalid, null, host);
        }

        // With invariant globalization .NET's IDN keeps fullwidth digits as punycode ("１２７.０.０.１" becomes
        // "xn--8g7ccp.xn--7g7c.xn--7g7c.xn--8g7c"), which DNS would simply not find; ICU's UTS #46 mapping, a
        // browser or another parser reads 127.0.0.1. Refuse such names instead of guessing which reading wins.
        var folded = Fold(unicode);
        if (!string.Equals(folded, ascii, StringComparison.Ordinal)
            && IPAddress.TryParse(folded.TrimEnd('.'), out var disguised))
        {
            return new(DestinationHostKind.DisguisedAddress, disguised, host);
        }

        // A name ending in a number is an IPv4 address to WHATWG parsers and inet_aton; one that did not parse
        // as an address above ("256.1.1.1", "08.0.0.1", "1.2.3.4.5") is ambiguous, never a real name.
        if (EndsInNumber(folded))
        {
            return new(DestinationHostKind.Invalid, null, host);
        }

        return IsReserved(ascii) || IsReserved(folded)
            ? new(DestinationHostKind.ReservedName, null, host)
            : new(DestinationHostKind.Name, null, host);
    }

    private static string? ToUnicode(string ascii)
    {
        var labels = ascii.Split('.');
        var idn = new IdnMapping();
        for (var i = 0; i < labels.Length; i++)
        {
            var label = labels[i];
            if (label.Length is 0 or > MaxLabelLength
                || label[0] == '-'
                || label[^1] == '-'
                || !label.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                return null;
            }

            if (label.StartsWith("xn--", StringComparison.Ordinal))
            {
                try
                {
                    labels[i] = idn.GetUnicode(label);
                }
                catch (ArgumentException)
                {
                    return null;
                }
            }
        }

        return string.Join('.', labels);
    }

    // A targeted stand-in for NFKC, which invariant globalization does not implement: the characters that let
    // a name spell an address or a reserved suffix (fullwidth forms, other scripts' digits, circled and
    // "digit full stop" numbers, ideographic dots, circled letters). Over-folding only ever refuses a name.
    private static string Fold(string unicode)
    {
        var folded = new StringBuilder(unicode.Length);
        foreach (var rune in unicode.EnumerateRunes())
        {
            var value = rune.Value;
            if (rune.IsAscii)
            {
                folded.Append((char)value);
            }
            else if (value is 0x3002 or 0xFF0E or 0xFF61)
            {
                folded.Append('.');
            }
            else if (value is >= 0xFF01 and <= 0xFF5E)
            {
                folded.Append(char.ToLowerInvariant((char)(value - 0xFEE0)));
            }
            else if (value is >= 0x2488 and <= 0x249B)
            {
                folded.Append(value - 0x2487).Append('.');
            }
            else if (value is >= 0x24B6 and <= 0x24CF)
            {
                folded.Append((char)('a' + (value - 0x24B6)));
            }
            else if (value is >= 0x24D0 and <= 0x24E9)
            {
                folded.Append((char)('a' + (value - 0x24D0)));
            }
            else if (Rune.GetNumericValue(rune) is >= 0 and var number && number == Math.Floor(number))
            {
                folded.Append((long)number);
            }
            else
            {
                folded.Append(rune.ToString());
            }
        }

        return folded.ToString();
    }

    private static bool EndsInNumber(string name)
    {
        var last = name.TrimEnd('.');
        last = last[(last.LastIndexOf('.') + 1)..];
        if (last.StartsWith("0x", StringComparison.Ordinal))
        {
            return last[2..].All(char.IsAsciiHexDigit);
        }

        return last.Length > 0 && last.All(char.IsAsciiDigit);
    }

    private static bool IsReserved(string name)
    {
        name = name.TrimEnd('.');
        if (!name.Contains('.') || name is "home.arpa")
        {
            return true;
        }

        foreach (var suffix in ReservedSuffixes)
        {
            if (name.EndsWith(suffix, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
