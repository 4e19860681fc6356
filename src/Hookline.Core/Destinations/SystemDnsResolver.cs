using System.Net;

namespace Hookline.Core.Destinations;

/// <summary>The operating system's resolver (getaddrinfo on Linux).</summary>
internal sealed class SystemDnsResolver : IDnsResolver
{
    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        // Dns.GetHostAddressesAsync("") answers with this machine's own addresses: never let that through.
        ArgumentException.ThrowIfNullOrEmpty(host);
        return Dns.GetHostAddressesAsync(host, cancellationToken);
    }
}
