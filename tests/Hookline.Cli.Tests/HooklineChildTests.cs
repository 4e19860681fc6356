using System.Net;
using System.Net.Sockets;
using System.Text;
using Hookline.Cli.Bench;

namespace Hookline.Cli.Tests;

/// <summary>
/// The bench's <c>hookline serve</c> children take a port that was free a moment before they bind it. Another server
/// on that port (the test suite runs Hookline servers on ports the kernel picks) must not pass for the child.
/// </summary>
public sealed class HooklineChildTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("hookline-child-").FullName;

    [Fact]
    public async Task A_child_that_could_not_bind_its_port_is_not_taken_for_the_server_that_holds_it()
    {
        // An impostor that answers every request with 200, as a Hookline server answers /readyz.
        using var impostor = new TcpListener(IPAddress.Loopback, 0);
        impostor.Start();
        var port = ((IPEndPoint)impostor.LocalEndpoint).Port;
        using var stop = new CancellationTokenSource();
        var answering = AnswerOkAsync(impostor, stop.Token);
        var instance = new StoreInstance(_directory, new Dictionary<string, string> { ["Storage:DataDirectory"] = _directory }, () => ValueTask.CompletedTask);

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var child = await HooklineChild.StartAsync(instance, BenchOptions.QuickDefaults(new BenchOptions()), port);
        });

        Assert.Contains("hookline serve exited", failure.Message, StringComparison.Ordinal);
        await stop.CancelAsync();
        impostor.Stop();
        await answering;
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static async Task AnswerOkAsync(TcpListener listener, CancellationToken cancellationToken)
    {
        var ok = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                using var client = await listener.AcceptTcpClientAsync(cancellationToken);
                var stream = client.GetStream();
                var buffer = new byte[4096];
                _ = await stream.ReadAsync(buffer, cancellationToken);
                await stream.WriteAsync(ok, cancellationToken);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    return;
                }
            }
        }
    }
}
