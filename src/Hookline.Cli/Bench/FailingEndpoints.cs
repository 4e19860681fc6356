using System.Net;
using System.Net.Sockets;

namespace Hookline.Cli.Bench;

/// <summary>
/// The endpoints S4 isolates healthy webhooks from: a black hole (accepts the connection, reads nothing,
/// never answers, so every attempt runs into the timeout) and a refusing port (nothing listens there).
/// </summary>
internal sealed class FailingEndpoints : IAsyncDisposable
{
    private readonly TcpListener _blackHole;
    private readonly List<Socket> _held = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    private FailingEndpoints(TcpListener blackHole, int refusingPort)
    {
        _blackHole = blackHole;
        RefusingPort = refusingPort;
        _accepting = AcceptAsync();
    }

    public int BlackHolePort => ((IPEndPoint)_blackHole.LocalEndpoint).Port;

    public int RefusingPort { get; }

    public static FailingEndpoints Start()
    {
        var blackHole = new TcpListener(IPAddress.Loopback, 0);
        blackHole.Start(backlog: 1024);

        // A port that was just free and is closed again: connecting to it is refused.
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var refusing = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return new FailingEndpoints(blackHole, refusing);
    }

    public string BlackHoleUrl(int webhook) => $"http://127.0.0.1:{BlackHolePort}/w/{webhook}";

    public string RefusingUrl(int webhook) => $"http://127.0.0.1:{RefusingPort}/w/{webhook}";

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _blackHole.Stop();
        try
        {
            await _accepting;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        lock (_held)
        {
            foreach (var socket in _held)
            {
                socket.Dispose();
            }
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var socket = await _blackHole.AcceptSocketAsync(_stop.Token);
            lock (_held)
            {
                _held.Add(socket);
            }
        }
    }
}
