using System.Collections.Concurrent;
using System.Globalization;
using Hookline.Server.Api;
using Hookline.Server.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Hookline.Server.Auth;

/// <summary>
/// Refuses (429) a client that keeps presenting bad credentials: after <c>Limits:AuthFailures</c> failures in
/// <c>Limits:AuthFailureWindow</c>, every request from that address is refused until the window ends, even
/// with good credentials, so guessing gains nothing. Keyed by remote address; memory is bounded.
/// </summary>
internal sealed class AuthFailureLimiter(TimeProvider time, IOptions<LimitsOptions> options)
{
    private const int MaxTrackedClients = 100_000;
    private readonly ConcurrentDictionary<string, Window> _clients = new(StringComparer.Ordinal);

    public void ThrowIfBlocked(HttpContext context)
    {
        if (_clients.TryGetValue(Client(context), out var window))
        {
            var now = time.GetUtcNow();
            var left = window.Start + options.Value.AuthFailureWindow - now;
            if (left > TimeSpan.Zero && window.Failures >= options.Value.AuthFailures)
            {
                throw new ApiException(429, "Too many failed authentication attempts; try again later.", null, "too_many_requests")
                {
                    RetryAfter = ((int)Math.Ceiling(left.TotalSeconds)).ToString(CultureInfo.InvariantCulture),
                };
            }
        }
    }

    public void RecordFailure(HttpContext context)
    {
        var now = time.GetUtcNow();
        var windowLength = options.Value.AuthFailureWindow;
        if (_clients.Count >= MaxTrackedClients)
        {
            foreach (var (key, old) in _clients)
            {
                if (old.Start + windowLength <= now)
                {
                    _clients.TryRemove(key, out _);
                }
            }
        }

        _clients.AddOrUpdate(
            Client(context),
            _ => new Window(now, 1),
            (_, current) => current.Start + windowLength <= now ? new Window(now, 1) : current with { Failures = current.Failures + 1 });
    }

    private static string Client(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    private sealed record Window(DateTimeOffset Start, int Failures);
}
