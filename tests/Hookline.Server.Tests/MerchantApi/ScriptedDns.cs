using System.Net;
using System.Net.Sockets;
using Hookline.Core.Destinations;

namespace Hookline.Server.Tests.MerchantApi;

/// <summary>
/// DNS answers scripted per host: each lookup takes the next answer and the last one repeats, so "public
/// when saved, loopback when sent" is two answers. Unscripted names get <paramref name="fallback"/>, or
/// NXDOMAIN without one. Every query is recorded.
/// </summary>
internal sealed class ScriptedDns(params string[] fallback) : IDnsResolver
{
    private readonly Dictionary<string, Queue<IPAddress[]>> _answers = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<string> _queries = [];
    private readonly Lock _gate = new();
    private readonly IPAddress[] _fallback = [.. fallback.Select(IPAddress.Parse)];

    /// <summary>Scripts the next answer for <paramref name="host"/>: all of <paramref name="addresses"/> at once.</summary>
    public ScriptedDns Then(string host, params string[] addresses)
    {
        lock (_gate)
        {
            if (!_answers.TryGetValue(host, out var queue))
            {
                queue = new Queue<IPAddress[]>();
                _answers[host] = queue;
            }

            queue.Enqueue([.. addresses.Select(IPAddress.Parse)]);
        }

        return this;
    }

    public int QueriesFor(string host)
    {
        lock (_gate)
        {
            return _queries.Count(q => string.Equals(q, host, StringComparison.OrdinalIgnoreCase));
        }
    }

    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _queries.Add(host);
            if (_answers.TryGetValue(host, out var queue))
            {
                return Task.FromResult(queue.Count > 1 ? queue.Dequeue() : queue.Peek());
            }
        }

        return _fallback.Length > 0
            ? Task.FromResult(_fallback)
            : Task.FromException<IPAddress[]>(new SocketException((int)SocketError.HostNotFound));
    }
}
