using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Hookline.Tests.Postgres;

/// <summary>
/// A throwaway PostgreSQL cluster from the machine's binaries (<c>initdb</c>, <c>pg_ctl</c>) in a temp
/// directory, listening on 127.0.0.1 on a free port, or the server named by <c>HOOKLINE_TEST_PG</c> (a
/// connection string with the right to create databases) when that is set. PostgreSQL refuses to run as
/// root, so as root the binaries run as the <c>postgres</c> user via <c>runuser</c>.
/// </summary>
/// <remarks>
/// fsync is off: these tests crash PostgreSQL processes, never the kernel, and WAL written before a commit
/// returns survives a process crash in the page cache. synchronous_commit stays on (the store forces it).
/// </remarks>
internal sealed class PostgresCluster : IAsyncDisposable
{
    public const string ExternalVariable = "HOOKLINE_TEST_PG";
    private const string User = "hl";
    private const string DirectoryPrefix = "hookline-pg-";
    private static readonly Lazy<Task<PostgresCluster>> SharedCluster = new(() => StartAsync());
    private readonly string? _directory;
    private readonly string _adminConnectionString;
    private int _databases;

    private PostgresCluster(string? directory, int port, string adminConnectionString)
    {
        _directory = directory;
        Port = port;
        _adminConnectionString = adminConnectionString;
    }

    public int Port { get; }

    /// <summary>False when the cluster is an external server (<c>HOOKLINE_TEST_PG</c>) that tests must not stop.</summary>
    public bool Owned => _directory is not null;

    private string DataDirectory => Path.Combine(_directory!, "data");

    /// <summary>One cluster for the whole test run, stopped (by its watchdog) when the test process exits.</summary>
    public static Task<PostgresCluster> SharedAsync() => SharedCluster.Value;

    /// <summary>
    /// Starts a cluster, or uses <c>HOOKLINE_TEST_PG</c> when <paramref name="allowExternal"/> (tests that stop
    /// and restart PostgreSQL need one of their own).
    /// </summary>
    public static async Task<PostgresCluster> StartAsync(bool allowExternal = true)
    {
        if (allowExternal && Environment.GetEnvironmentVariable(ExternalVariable) is { Length: > 0 } external)
        {
            var builder = new NpgsqlConnectionStringBuilder(external) { Pooling = false };
            return new PostgresCluster(null, builder.Port, builder.ConnectionString);
        }

        var bin = BinDirectory() ?? throw new InvalidOperationException(
            "PostgreSQL is needed for these tests and was not found: no initdb under /usr/lib/postgresql/*/bin or on PATH. "
            + $"Install PostgreSQL server binaries (Debian: postgresql-15) or set {ExternalVariable} to a connection string.");
        var directory = Directory.CreateTempSubdirectory(DirectoryPrefix).FullName;
        try
        {
            if (RunsAsRoot)
            {
                await RunAsync("chown", ["postgres:postgres", directory]);
            }

            StartWatchdog(directory, bin);
            await RunAsync(Path.Combine(bin, "initdb"), ["-D", Path.Combine(directory, "data"), "-A", "trust", "-U", User, "--no-sync", "--encoding=UTF8", "--no-locale"], asPostgres: true);
            for (var tries = 1; ; tries++)
            {
                var port = FreePort();
                var cluster = new PostgresCluster(directory, port, $"Host=127.0.0.1;Port={port};Username={User};Database=postgres;Pooling=false;Timeout=10");
                try
                {
                    await cluster.StartServerAsync();
                    return cluster;
                }
                catch (InvalidOperationException) when (tries < 3)
                {
                    // Another process took the port between our probe and PostgreSQL's bind: pick another.
                }
            }
        }
        catch
        {
            TryDelete(directory);
            throw;
        }
    }

    /// <summary>
    /// A new database, empty or a copy of <paramref name="templateConnectionString"/>'s database (which must have
    /// no open connections); returns its connection string. FILE_COPY copies the files directly: much faster
    /// than PostgreSQL 15's default of writing the whole template through the WAL, for a database per test.
    /// </summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "hookline", string? templateConnectionString = null)
    {
        var name = $"{prefix}_{Environment.ProcessId}_{Interlocked.Increment(ref _databases)}_{Guid.NewGuid().ToString("N")[..8]}";
        var template = templateConnectionString is null ? "template1" : new NpgsqlConnectionStringBuilder(templateConnectionString).Database;
        await AdminAsync($"CREATE DATABASE {name} TEMPLATE {template} STRATEGY FILE_COPY");
        return new NpgsqlConnectionStringBuilder(_adminConnectionString) { Database = name, Pooling = true }.ConnectionString;
    }

    /// <summary>The database called <paramref name="name"/>, created empty if missing; true when created now.</summary>
    public async Task<(string ConnectionString, bool Created)> EnsureDatabaseAsync(string name)
    {
        var connectionString = new NpgsqlConnectionStringBuilder(_adminConnectionString) { Database = name, Pooling = true }.ConnectionString;
        await using var connection = new NpgsqlConnection(_adminConnectionString);
        await connection.OpenAsync();
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection);
        exists.Parameters.AddWithValue("name", name);
        if (await exists.ExecuteScalarAsync() is not null)
        {
            return (connectionString, false);
        }

        await AdminAsync($"CREATE DATABASE {name}");
        return (connectionString, true);
    }

    public async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        NpgsqlConnection.ClearAllPools();
        await AdminAsync($"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    }

    /// <summary><c>pg_ctl stop -m immediate</c>: every backend dies at once, as in a crash.</summary>
    public Task CrashAsync() => PgCtlAsync("stop", "-m", "immediate");

    public Task StartServerAsync() => PgCtlAsync("start", "-w", "-t", "30", "-l", Path.Combine(_directory!, "postgres.log"), "-o",
        $"-p {Port} -k {_directory} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200");

    public async ValueTask DisposeAsync()
    {
        if (_directory is null)
        {
            return;
        }

        try
        {
            await PgCtlAsync("stop", "-m", "immediate");
        }
        catch (InvalidOperationException)
        {
            // Already stopped (a test crashed it and did not restart it).
        }

        TryDelete(_directory);
    }

    private async Task AdminAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_adminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private Task PgCtlAsync(params string[] args)
        => RunAsync(Path.Combine(BinDirectory()!, "pg_ctl"), ["-D", DataDirectory, .. args], asPostgres: true);

    private static bool RunsAsRoot => Environment.UserName == "root";

    private static string? BinDirectory()
    {
        var versions = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0)
            : Enumerable.Empty<string>();
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries);
        return versions.Select(v => Path.Combine(v, "bin")).Concat(path).FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")));
    }

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

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");
        // pg_ctl start leaves postgres running with our pipes inherited unless it logs to a file (-l), which it does.
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', args)} exited with {process.ExitCode}:\n{await stdout}\n{await stderr}");
        }
    }

    /// <summary>
    /// A detached shell that stops the cluster and removes its directory once this test process is gone, however
    /// it ended (an exit handler does not run when the test host is killed, and the runner may kill it).
    /// </summary>
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

        try
        {
            using var watchdog = Process.Start(start);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No setsid: the cluster is still stopped by DisposeAsync, just not after a killed test host.
        }
    }

    /// <summary>
    /// Best effort: <c>pg_ctl stop</c> waits for the postmaster, which waits for its backends, so the files are
    /// closed by now. A second attempt covers a file still being unlinked during the first; after that the
    /// directory is left to the temp cleaner rather than waited for.
    /// </summary>
    private static void TryDelete(string directory)
    {
        for (var tries = 1; tries <= 2; tries++)
        {
            try
            {
                Directory.Delete(directory, recursive: true);
                return;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Try once more without waiting; see above.
            }
        }
    }
}
