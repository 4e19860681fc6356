using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Hookline.Server.Tests.MerchantApi;

/// <summary>
/// A TCP listener on 127.0.0.1 that counts every connection it accepts and answers each with a bare
/// <c>200 OK</c>, so a connection that should never have happened also shows up as a delivery that succeeded.
/// </summary>
internal sealed class CountingListener : IAsyncDisposable
{
    private static readonly byte[] Ok = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _connections;

    public CountingListener()
    {
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

    public int Connections => Volatile.Read(ref _connections);

    /// <summary>
    /// Proves the counter works: one connection of our own must be counted. Call it after asserting zero, so
    /// that "zero" cannot come from a listener that never accepts.
    /// </summary>
    public async Task AssertCountsAConnectionAsync()
    {
        var before = Connections;
        using (var probe = new TcpClient())
        {
            await probe.ConnectAsync(IPAddress.Loopback, Port);
        }

        var until = Environment.TickCount64 + 10_000;
        while (Connections == before)
        {
            Assert.True(Environment.TickCount64 < until, "the counting listener did not count a probe connection");
            await Task.Delay(10);
        }

        Assert.Equal(before + 1, Connections);
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            Interlocked.Increment(ref _connections);
            _ = AnswerAsync(socket);
        }
    }

    private static async Task AnswerAsync(Socket socket)
    {
        using (socket)
        {
            try
            {
                var buffer = new byte[4096];
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                _ = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                await socket.SendAsync(Ok, SocketFlags.None);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
