using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;

namespace Hookline.Cli.Tests.Infrastructure;

/// <summary>
/// <c>hookline serve</c> as a separate OS process, so <c>kill -9</c> is real: no finally blocks, no flushes,
/// no graceful shutdown.
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    public const string PlatformToken = "hlp_process_test_token_0123456789";
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private volatile bool _listening;

    private ServerProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    /// <summary>The OS process id (also part of its dispatcher's lease owner name).</summary>
    public int ProcessId => _process.Id;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public static string HooklineDll()
    {
        var local = Path.Combine(AppContext.BaseDirectory, "hookline.dll");
        if (File.Exists(local) && File.Exists(Path.Combine(AppContext.BaseDirectory, "hookline.runtimeconfig.json")))
        {
            return local;
        }

        throw new FileNotFoundException("hookline.dll (with its runtimeconfig) is not next to the tests; build the solution first.", local);
    }

    public static async Task<ServerProcess> StartAsync(string dataDirectory, int port, IDictionary<string, string>? settings = null, params string[] extraArgs)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { HooklineDll(), "serve", "--urls", $"http://127.0.0.1:{port}", "--data-dir", dataDirectory }.Concat(extraArgs))
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["HOOKLINE_Platform__Token"] = PlatformToken;
        start.Environment["HOOKLINE_Delivery__AllowPrivateNetworks"] = "true";

        // These tests publish minimal test-mode payloads; the catalogue's schemas are tested in the server tests.
        start.Environment["HOOKLINE_Limits__ValidatePayloads"] = "false";
        start.Environment["DOTNET_gcServer"] = "0";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            start.Environment["HOOKLINE_" + key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = Process.Start(start)!;
        var server = new ServerProcess(process, new Uri($"http://127.0.0.1:{port}"));
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await server.WaitUntilHealthyAsync();
        }
        catch
        {
            // Never leave a half-started server running past the test that failed to start it.
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    public HttpClient Platform()
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", PlatformToken);
        return client;
    }

    public HttpClient Merchant(string keyId, string secret)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{keyId}:{secret}")));
        return client;
    }

    /// <summary>SIGKILL: the process gets no chance to clean up.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await KillAsync();
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        if (line.Contains($"Hookline listening on {BaseAddress.GetLeftPart(UriPartial.Authority)}", StringComparison.Ordinal))
        {
            _listening = true;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    private async Task WaitUntilHealthyAsync()
    {
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var until = Environment.TickCount64 + 30_000;
        while (Environment.TickCount64 < until)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"hookline serve exited with {_process.ExitCode}:\n{Output}");
            }

            // Only this process's own word that it holds the port: another server may have taken the port since
            // FreePort looked (the server tests run Hookline on ports the kernel picks), and its /readyz would pass.
            if (!_listening)
            {
                await Task.Delay(50);
                continue;
            }

            try
            {
                if ((await client.GetAsync("/readyz")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet, or too busy starting to answer within the probe's timeout.
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"hookline serve did not become ready:\n{Output}");
    }
}
