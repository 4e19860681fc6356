using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Hookline.Cli.Bench;

/// <summary>
/// A throwaway PostgreSQL cluster for the bench, started from the machine's binaries (<c>initdb</c>,
/// <c>pg_ctl</c>) in a temp directory on 127.0.0.1 and a free port, the way the test fixture does it
/// (tests/Shared/Postgres). PostgreSQL refuses to run as root, so as root it runs as the <c>postgres</c> user.
/// </summary>
/// <remarks>
/// Unlike the test fixture, fsync stays on: the bench compares durable commits on both stores (SQLite runs
/// with <c>synchronous=FULL</c>, the PostgreSQL store forces <c>synchronous_commit=on</c>).
/// </remarks>
internal sealed class PostgresCluster : IAsyncDisposable
{
    private const string User = "hl";
    private readonly string _directory;
    private readonly string _bin;

    private PostgresCluster(string directory, string bin, int port)
    {
        _directory = directory;
        _bin = bin;
        AdminConnectionString = $"Host=127.0.0.1;Port={port};Username={User};Database=postgres;Pooling=false;Timeout=15";
    }

    public string AdminConnectionString { get; }

    /// <summary>Where <c>initdb</c> lives, or null when PostgreSQL is not installed.</summary>
    public static string? BinDirectory()
    {
        var versions = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0)
            : Enumerable.Empty<string>();
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries);
        return versions.Select(v => Path.Combine(v, "bin")).Concat(path).FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")));
    }

    public static async Task<PostgresCluster> StartAsync()
    {
        var bin = BinDirectory() ?? throw new InvalidOperationException(
            "no PostgreSQL binaries (initdb under /usr/lib/postgresql/*/bin or on PATH); install postgresql or pass --postgres \"<connection string>\"");
        var directory = Directory.CreateTempSubdirectory("hookline-bench-pg-").FullName;
        if (RunsAsRoot)
        {
            await RunAsync("chown", ["postgres:postgres", directory]);
        }

        StartWatchdog(directory, bin);
        await RunAsync(Path.Combine(bin, "initdb"), ["-D", Path.Combine(directory, "data"), "-A", "trust", "-U", User, "--encoding=UTF8", "--no-locale"], asPostgres: true);
        for (var tries = 1; ; tries++)
        {
            var cluster = new PostgresCluster(directory, bin, FreePort());
            try
            {
                var port = new Npgsql.NpgsqlConnectionStringBuilder(cluster.AdminConnectionString).Port;
                await cluster.PgCtlAsync("start", "-w", "-t", "60", "-l", Path.Combine(directory, "postgres.log"), "-o",
                    $"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=256MB");
                return cluster;
            }
            catch (InvalidOperationException) when (tries < 3)
            {
                // Another process took the port between the probe and PostgreSQL's bind: pick another.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await PgCtlAsync("stop", "-m", "fast");
        }
        catch (InvalidOperationException)
        {
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The watchdog removes it once this process is gone.
        }
    }

    private Task PgCtlAsync(params string[] args)
        => RunAsync(Path.Combine(_bin, "pg_ctl"), ["-D", Path.Combine(_directory, "data"), .. args], asPostgres: true);

    private static bool RunsAsRoot => Environment.UserName == "root";

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static async Task RunAsync(string file, string[] args, bool asPostgres = false)
    {
        var start = new ProcessStartInfo(asPostgres && RunsAsRoot ? "runuser" : file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        if (asPostgres && RunsAsRoot)
        {
            foreach (var arg in new[] { "-u", "postgres", "--", file })
            {
                start.ArgumentList.Add(arg);
            }
        }

        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', args)} exited with {process.ExitCode}: {await stdout}{await stderr}");
        }
    }

    /// <summary>Stops the cluster and removes its directory once the bench is gone, however it ended (kill -9 included).</summary>
    private static void StartWatchdog(string directory, string bin)
    {
        var pgCtl = (RunsAsRoot ? "runuser -u postgres -- " : "") + $"'{Path.Combine(bin, "pg_ctl")}'";
        var script = $"""
            exec </dev/null >/dev/null 2>&1
            while kill -0 {Environment.ProcessId} && [ -d '{directory}' ]; do sleep 1; done
            if [ -d '{directory}' ]; then {pgCtl} -D '{directory}/data' stop -m immediate; rm -rf '{directory}'; fi
            """;
        var start = new ProcessStartInfo("setsid") { UseShellExecute = false };
        foreach (var arg in new[] { "sh", "-c", script })
        {
            start.ArgumentList.Add(arg);
        }

        using var watchdog = Process.Start(start);
    }
}
