using System.Net;

namespace Hookline.Core.Destinations;

/// <summary>
/// Turns a host name into addresses. A port so that tests can script answers (rebinding, NXDOMAIN, slow
/// servers) without touching real DNS.
/// </summary>
public interface IDnsResolver
{
    /// <summary>
    /// Resolves <paramref name="host"/>. Throws (typically <see cref="System.Net.Sockets.SocketException"/>)
    /// when the name does not exist or the lookup fails; never returns null.
    /// </summary>
    Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken);
}
