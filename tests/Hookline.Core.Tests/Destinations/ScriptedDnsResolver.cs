using System.Net;
using System.Net.Sockets;
using Hookline.Core.Destinations;

namespace Hookline.Core.Tests.Destinations;

/// <summary>
/// DNS answers scripted per host. Each lookup takes the next scripted answer; the last one repeats. Hosts
/// without a script get the fallback answer, or NXDOMAIN when there is none.
/// </summary>
internal sealed class ScriptedDnsResolver : IDnsResolver
{
    private readonly Dictionary<string, Queue<Func<CancellationToken, Task<IPAddress[]>>>> _scripts =
        new(StringComparer.OrdinalIgnoreCase);

    private readonly List<string> _queries = [];
    private readonly IPAddress[]? _fallback;

    public ScriptedDnsResolver(params IPAddress[] fallback)
    {
        _fallback = fallback.Length == 0 ? null : fallback;
    }

    public IReadOnlyList<string> Queries
    {
        get
        {
            lock (_queries)
            {
                return [.. _queries];
            }
        }
    }

    public ScriptedDnsResolver Answer(string host, params string[] addresses)
    {
        IPAddress[] parsed = [.. addresses.Select(IPAddress.Parse)];
        return Script(host, _ => Task.FromResult(parsed));
    }

    public ScriptedDnsResolver NotFound(string host) =>
        Script(host, _ => Task.FromException<IPAddress[]>(new SocketException((int)SocketError.HostNotFound)));

    /// <summary>The lookup completes only when the test completes <paramref name="answer"/>, or is cancelled.</summary>
    public ScriptedDnsResolver Pending(string host, TaskCompletionSource<IPAddress[]> answer) =>
        Script(host, ct => answer.Task.WaitAsync(ct));

    public ScriptedDnsResolver Script(string host, Func<CancellationToken, Task<IPAddress[]>> answer)
    {
        if (!_scripts.TryGetValue(host, out var queue))
        {
            queue = new Queue<Func<CancellationToken, Task<IPAddress[]>>>();
            _scripts[host] = queue;
        }

        queue.Enqueue(answer);
        return this;
    }

    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        lock (_queries)
        {
            _queries.Add(host);
            if (_scripts.TryGetValue(host, out var queue))
            {
                var next = queue.Count > 1 ? queue.Dequeue() : queue.Peek();
                return next(cancellationToken);
            }
        }

        return _fallback is null
            ? Task.FromException<IPAddress[]>(new SocketException((int)SocketError.HostNotFound))
            : Task.FromResult(_fallback);
    }
}
