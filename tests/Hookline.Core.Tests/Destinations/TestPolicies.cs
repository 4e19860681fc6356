using System.Net;
using Hookline.Core.Delivery;
using Hookline.Core.Destinations;
using Microsoft.Extensions.Options;

namespace Hookline.Core.Tests.Destinations;

internal static class TestPolicies
{
    /// <summary>A public address (example.com's) that fake DNS hands out for ordinary names.</summary>
    public static readonly IPAddress PublicAddress = IPAddress.Parse("93.184.215.14");

    public static UrlPolicy Create(IDnsResolver? resolver = null, bool allowPrivateNetworks = false, int[]? allowedPorts = null)
    {
        var options = new DeliveryOptions { AllowPrivateNetworks = allowPrivateNetworks };
        if (allowedPorts is not null)
        {
            options.AllowedPorts = allowedPorts;
        }

        return new UrlPolicy(Options.Create(options), resolver ?? new ScriptedDnsResolver(PublicAddress));
    }

    /// <summary>Parses the way the delivery client will, to get the host and port it dials.</summary>
    public static Uri ParseHttp(string url)
    {
        Assert.True(Uri.TryCreate(url, UriKind.Absolute, out var uri), $"Uri does not parse {url}");
        Assert.True(uri.Scheme is "http" or "https", $"{url} is not http(s)");
        return uri;
    }
}
