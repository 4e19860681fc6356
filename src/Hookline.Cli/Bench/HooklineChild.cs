using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Hookline.Cli.Bench;

/// <summary>
/// <c>hookline serve</c> as a child process (S5 measures its memory alone; S6 kills it with SIGKILL). It runs
/// the same build as the bench: <c>dotnet hookline.dll</c> from the bench's own directory.
/// </summary>
internal sealed class HooklineChild : IHookline
{
    /// <summary>The logger whose "Hookline listening on" line the child must print before it counts as started.</summary>
    private const string ListeningCategory = "Hookline.Server.Hosting.StartupTasks";

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private long _peakSampledRss;
    private int _disposed;
    private volatile bool _listening;

    private HooklineChild(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public long? Recorded => null;

    public string? Results => null;

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public static async Task<HooklineChild> StartAsync(
        StoreInstance store, BenchOptions options, int port, string role = "all", IReadOnlyDictionary<string, string>? extra = null, CancellationToken cancellationToken = default)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "hookline.dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException("hookline.dll is not next to the bench; run the bench from a build of Hookline.Cli.", dll);
        }

        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { dll, "serve", "--urls", $"http://127.0.0.1:{port}", "--role", role })
        {
            start.ArgumentList.Add(arg);
        }

        var settings = HooklineSettings.For(store, options, extra);
        // The one line that proves this child holds the port (WaitUntilReadyAsync).
        settings[$"Logging:LogLevel:{ListeningCategory}"] = "Information";
        foreach (var (key, value) in settings)
        {
            start.Environment["HOOKLINE_" + key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start hookline serve");
        var child = new HooklineChild(process, new Uri($"http://127.0.0.1:{port}"));
        process.OutputDataReceived += (_, e) => child.Append(e.Data);
        process.ErrorDataReceived += (_, e) => child.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await child.WaitUntilReadyAsync(cancellationToken);
        return child;
    }

    /// <summary>Resident memory now, in bytes, and remembers the largest value seen.</summary>
    public long SampleRss()
    {
        var rss = Status("VmRSS");
        InterlockedMax(ref _peakSampledRss, rss);
        return rss;
    }

    /// <summary>The kernel's high-water mark of resident memory (VmHWM): the peak over the process's whole life.</summary>
    public long PeakRss() => Math.Max(Status("VmHWM"), Interlocked.Read(ref _peakSampledRss));

    /// <summary>SIGKILL: no finally blocks, no flushes, no graceful shutdown.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
    }

    public string OutputTail()
    {
        lock (_output)
        {
            var text = _output.ToString();
            return text.Length > 4000 ? text[^4000..] : text;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await KillAsync();
        _process.Dispose();
    }

    private long Status(string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
            {
                if (line.StartsWith(field + ":", StringComparison.Ordinal))
                {
                    var kb = line[(field.Length + 1)..].Trim().Split(' ')[0];
                    return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Exited: the last sample stands.
        }

        return 0;
    }

    private static void InterlockedMax(ref long target, long value)
    {
        var current = Interlocked.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
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

    /// <summary>
    /// Waits until this child says it listens on its port, then until it answers <c>/readyz</c>. The port was free when
    /// <see cref="FreePort"/> looked, but another process may bind it before the child does (the test suite runs Hookline
    /// servers on ports the kernel picks): its <c>/readyz</c> alone would then pass for this child's, and the bench's
    /// requests would go to that server (a 401 for the bench's platform token). The child that lost the port exits.
    /// </summary>
    private async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var started = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(60))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"hookline serve exited with {_process.ExitCode}:\n{OutputTail()}");
            }

            if (!_listening)
            {
                await Task.Delay(20, cancellationToken);
                continue;
            }

            try
            {
                using var response = await client.GetAsync(new Uri("/readyz", UriKind.Relative), cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
            }

            await Task.Delay(20, cancellationToken);
        }

        throw new TimeoutException($"hookline serve did not become ready within 60 s:\n{OutputTail()}");
    }
}
