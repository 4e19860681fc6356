using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace Hookline.Server.Tests.Infrastructure;

/// <summary>
/// A real SMTP server: maildev@2 from npm, run as a separate process on loopback, with its REST API
/// (<c>GET /email</c>) to read what arrived. Installed on first use into a cache folder.
/// </summary>
internal sealed class MailDev : IAsyncDisposable
{
    private static readonly SemaphoreSlim InstallLock = new(1, 1);
    private readonly HttpClient _web;
    private Process? _process;

    private MailDev(int smtpPort, int webPort)
    {
        SmtpPort = smtpPort;
        WebPort = webPort;
        _web = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{webPort}") };
    }

    public int SmtpPort { get; }

    public int WebPort { get; }

    /// <summary>maildev's start script inside <see cref="InstallDirectory"/>.</summary>
    private static string Executable => Path.Combine(InstallDirectory, "node_modules", "maildev", "bin", "maildev");

    public static string InstallDirectory => Environment.GetEnvironmentVariable("HOOKLINE_MAILDEV_DIR") ?? Path.Combine(Path.GetTempPath(), "hookline-maildev");

    public static async Task<MailDev> StartAsync()
    {
        await EnsureInstalledAsync();
        var mail = new MailDev(FreePort(), FreePort());
        await mail.RestartAsync();
        return mail;
    }

    public async Task RestartAsync()
    {
        var start = new ProcessStartInfo("node")
        {
            ArgumentList = { Executable, "--smtp", SmtpPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--web", WebPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--ip", "127.0.0.1", "--silent" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _process = Process.Start(start)!;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var until = Environment.TickCount64 + 30_000;
        while (true)
        {
            try
            {
                if ((await _web.GetAsync("/email")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            if (_process.HasExited || Environment.TickCount64 > until)
            {
                throw new InvalidOperationException("maildev did not start.");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Kills the SMTP server (its mailbox is lost; tests read it before stopping).</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        _process = null;
    }

    public async Task<IReadOnlyList<ReceivedMail>> MessagesAsync()
    {
        var items = await _web.GetFromJsonAsync<JsonElement>("/email");
        return [.. items.EnumerateArray().Select(m => new ReceivedMail(
            m.GetProperty("to").EnumerateArray().Select(t => t.GetProperty("address").GetString()!).ToList(),
            m.GetProperty("subject").GetString()!,
            m.TryGetProperty("text", out var text) ? text.GetString() ?? "" : "",
            m.TryGetProperty("html", out var html) ? html.GetString() ?? "" : "",
            m.GetProperty("headers").TryGetProperty("x-hookline-notification", out var id) ? id.GetString() ?? "" : ""))];
    }

    public async Task<IReadOnlyList<ReceivedMail>> WaitForMessagesAsync(int count)
        => await Eventually.UntilAsync(MessagesAsync, m => m.Count >= count, TimeSpan.FromSeconds(30), $"{count} e-mails");

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _web.Dispose();
    }

    /// <summary>
    /// Installs maildev once per machine. Test projects run in parallel processes, so the lock is a file lock
    /// (on Linux .NET backs <see cref="FileShare.None"/> with flock), and the marker is written only after npm
    /// finished: npm creates maildev's files before it is done, and another process starting it then fails.
    /// </summary>
    private static async Task EnsureInstalledAsync()
    {
        await InstallLock.WaitAsync();
        try
        {
            Directory.CreateDirectory(InstallDirectory);
            var marker = Path.Combine(InstallDirectory, ".installed");
            if (File.Exists(marker))
            {
                return;
            }

            await using var machineLock = await LockAsync(Path.Combine(InstallDirectory, ".install-lock"));
            if (File.Exists(marker))
            {
                return;
            }

            var npm = Process.Start(new ProcessStartInfo("npm")
            {
                ArgumentList = { "install", "--prefix", InstallDirectory, "--no-audit", "--no-fund", "--loglevel=error", "maildev@2" },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            })!;
            var output = await npm.StandardError.ReadToEndAsync();
            await npm.WaitForExitAsync();
            if (npm.ExitCode != 0 || !File.Exists(Executable))
            {
                throw new InvalidOperationException($"Could not install maildev@2 with npm (exit {npm.ExitCode}): {output}");
            }

            await File.WriteAllTextAsync(marker, "maildev@2");
        }
        finally
        {
            InstallLock.Release();
        }
    }

    private static async Task<FileStream> LockAsync(string path)
    {
        var until = Environment.TickCount64 + 300_000;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (Environment.TickCount64 < until)
            {
                await Task.Delay(200);
            }
        }
    }

    private static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}

internal sealed record ReceivedMail(IReadOnlyList<string> To, string Subject, string Text, string Html, string NotificationId);
