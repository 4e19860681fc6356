using Npgsql;

namespace Hookline.Cli.Bench;

/// <summary>
/// A fresh, empty store for one Hookline under test: its own data directory (token, master key, and the
/// database for SQLite) and, for PostgreSQL, its own database. <see cref="Settings"/> are Hookline
/// configuration keys.
/// </summary>
internal sealed class StoreInstance(string dataDirectory, IReadOnlyDictionary<string, string> settings, Func<ValueTask> drop) : IAsyncDisposable
{
    public string DataDirectory { get; } = dataDirectory;

    public IReadOnlyDictionary<string, string> Settings { get; } = settings;

    public async ValueTask DisposeAsync()
    {
        await drop();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>One store the bench runs against: hands out fresh instances and owns whatever server it started.</summary>
internal sealed class BenchStore : IAsyncDisposable
{
    private readonly string? _adminConnectionString;
    private readonly PostgresCluster? _cluster;
    private int _databases;

    private BenchStore(string name, string? adminConnectionString, PostgresCluster? cluster)
    {
        Name = name;
        _adminConnectionString = adminConnectionString;
        _cluster = cluster;
    }

    public string Name { get; }

    public bool IsPostgres => _adminConnectionString is not null;

    public static BenchStore Sqlite() => new("sqlite", null, null);

    /// <summary>On the given server (which must allow CREATE DATABASE), or on a throwaway cluster the bench starts.</summary>
    public static async Task<BenchStore> PostgresAsync(string? connectionString)
    {
        if (connectionString is not null)
        {
            return new BenchStore("postgres", connectionString, null);
        }

        var cluster = await PostgresCluster.StartAsync();
        return new BenchStore("postgres", cluster.AdminConnectionString, cluster);
    }

    public async Task<StoreInstance> NewInstanceAsync(CancellationToken cancellationToken)
    {
        var directory = Directory.CreateTempSubdirectory("hookline-bench-").FullName;
        if (_adminConnectionString is null)
        {
            return new StoreInstance(directory, new Dictionary<string, string> { ["Storage:DataDirectory"] = directory }, () => ValueTask.CompletedTask);
        }

        var name = $"hookline_bench_{Environment.ProcessId}_{Interlocked.Increment(ref _databases)}";
        try
        {
            await AdminAsync($"CREATE DATABASE {name}", cancellationToken);
        }
        catch
        {
            Directory.Delete(directory, recursive: true);
            throw;
        }

        var connectionString = new NpgsqlConnectionStringBuilder(_adminConnectionString) { Database = name, Pooling = true, MaxPoolSize = 100 }.ConnectionString;
        return new StoreInstance(
            directory,
            new Dictionary<string, string>
            {
                ["Storage:DataDirectory"] = directory,
                ["Storage:Provider"] = "postgres",
                ["Storage:ConnectionString"] = connectionString,
            },
            async () =>
            {
                NpgsqlConnection.ClearAllPools();
                await AdminAsync($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", CancellationToken.None);
            });
    }

    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }

    private async Task AdminAsync(string sql, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(_adminConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
