using System.Net;

namespace Hookline.Core.Destinations;

/// <summary>
/// Whether a delivery may connect to a host and port. When allowed, <paramref name="Addresses"/> are exactly
/// the addresses that were checked: dial only these, never the host name again (DNS can change between the
/// check and the connect). When refused, <paramref name="Reason"/> says why and <paramref name="Addresses"/>
/// is empty.
/// </summary>
public sealed record ConnectDecision(bool Allowed, IReadOnlyList<IPAddress> Addresses, string? Reason);
