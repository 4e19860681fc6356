using System.Globalization;
using System.Reflection;
using Hookline.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Hookline.Storage.Postgres;

/// <summary>
/// The scale-out store: any number of Hookline processes share one database and coordinate only through it.
/// Unlike SQLite there is no writer lock in the process: PostgreSQL's row locks do that job across processes
/// (leases by <c>FOR UPDATE SKIP LOCKED</c>, idempotency by a primary key), and each method is one
/// transaction on a pooled connection. Commits wait for the WAL flush (<c>synchronous_commit=on</c>, forced
/// on every connection) because the platform's 2xx depends on it.
/// </summary>
internal sealed partial class PostgresStore : IHooklineStore, IWorkSignal
{
    /// <summary>Session advisory lock held while migrating, so processes starting together migrate once.</summary>
    private const long MigrationLockKey = 0x686F6F6B6C696E65; // "hookline"

    /// <summary>A transaction that hits a deadlock or a serialization failure rolled back whole; run it again.</summary>
    private const int MaxTransactionRuns = 3;

    private readonly NpgsqlDataSource _dataSource;
    private readonly WorkListener _listener;
    private readonly WorkNotifier _notifier;
    private readonly ILogger _logger;
    private int _disposed;

    public PostgresStore(PostgresOptions options, ILogger<PostgresStore>? logger = null)
    {
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        var builder = new NpgsqlConnectionStringBuilder(options.ConnectionString);
        builder.ApplicationName ??= "hookline";
        if (builder.MaxAutoPrepare == 0)
        {
            // Every statement of the hot paths runs thousands of times a second with the same text: prepared once
            // per connection, PostgreSQL parses and plans it once instead of on every execution.
            builder.MaxAutoPrepare = 64;
            builder.AutoPrepareMinUsages = 2;
        }

        // Appended last, so they win over the operator's connection string and the role's or database's defaults.
        builder.Options = $"{builder.Options} -c synchronous_commit=on -c idle_in_transaction_session_timeout={(long)options.IdleInTransactionTimeout.TotalMilliseconds}".Trim();
        _dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
        _listener = new WorkListener(ListenerConnectionString(builder), _logger);
        _notifier = new WorkNotifier(_dataSource, _logger);
    }

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using (var command = Command(connection, null, "SELECT pg_advisory_lock(@key)", P("key", MigrationLockKey)))
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        try
        {
            await ExecuteAsync(connection, null, "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at bigint NOT NULL)", cancellationToken);
            var applied = new HashSet<int>();
            await using (var command = Command(connection, null, "SELECT version FROM schema_migrations"))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    applied.Add(reader.GetInt32(0));
                }
            }

            foreach (var (version, sql) in Migrations().Where(m => !applied.Contains(m.Version)))
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await ExecuteAsync(connection, transaction, sql, cancellationToken);
                await using (var command = Command(connection, transaction,
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (@v, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)",
                    P("v", version)))
                {
                    await command.ExecuteNonQueryAsync(cancellationToken);
                }

                await transaction.CommitAsync(cancellationToken);
                PostgresStoreLog.Migrated(_logger, version);
            }
        }
        finally
        {
            // Closing the session would release it too; unlock explicitly because the connection goes back to the pool.
            await using var unlock = Command(connection, null, "SELECT pg_advisory_unlock(@key)", P("key", MigrationLockKey));
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    public async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            await using var command = Command(connection, null, "SELECT count(*) FROM schema_migrations");
            return await command.ExecuteScalarAsync(cancellationToken) is long count && count > 0;
        }
        catch (NpgsqlException)
        {
            return false;
        }
    }

    public IDisposable Subscribe(Action onWork) => _listener.Subscribe(onWork);

    /// <summary>Idempotent: the container disposes the store once per service it is registered as.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await StopIngestingAsync();
        await _listener.DisposeAsync();
        await _notifier.DisposeAsync();
        await _dataSource.DisposeAsync();
    }

    internal static IEnumerable<(int Version, string Sql)> Migrations()
    {
        var assembly = typeof(PostgresStore).Assembly;
        return assembly.GetManifestResourceNames()
            .Where(n => n.EndsWith(".sql", StringComparison.Ordinal))
            .Select(n =>
            {
                var file = n[(n.IndexOf(".Migrations.", StringComparison.Ordinal) + ".Migrations.".Length)..];
                var version = int.Parse(file.AsSpan(0, file.IndexOf('_', StringComparison.Ordinal)), CultureInfo.InvariantCulture);
                return (version, ReadResource(assembly, n));
            })
            .OrderBy(m => m.version);
    }

    /// <summary>The LISTEN connection lives for hours: outside the pool, with TCP keepalives to notice a dead peer.</summary>
    private static string ListenerConnectionString(NpgsqlConnectionStringBuilder builder)
        => new NpgsqlConnectionStringBuilder(builder.ConnectionString)
        {
            Pooling = false,
            KeepAlive = 10,
            ApplicationName = $"{builder.ApplicationName} listener",
        }.ConnectionString;

    private static string ReadResource(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _dataSource.OpenConnectionAsync(cancellationToken);
        }
        catch (NpgsqlException e)
        {
            ForgetConnectionsIfServerWentAway(e);
            throw;
        }
    }

    /// <summary>Runs <paramref name="work"/> in one read-committed transaction and commits it.</summary>
    private Task<T> WriteAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work, CancellationToken cancellationToken)
        => WriteAsync((connection, transaction, _) => work(connection, transaction), cancellationToken);

    /// <summary>
    /// Runs <paramref name="work"/> in one transaction (again, whole, after a deadlock or serialization failure);
    /// when the work marked <see cref="CommitEffects.QueuedWork"/>, other processes' workers are told after the commit.
    /// </summary>
    private async Task<T> WriteAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, CommitEffects, Task<T>> work, CancellationToken cancellationToken)
    {
        for (var run = 1; ; run++)
        {
            try
            {
                var effects = new CommitEffects();
                await using var connection = await OpenAsync(cancellationToken);
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                var result = await work(connection, transaction, effects);
                if (!effects.Committed)
                {
                    await transaction.CommitAsync(CancellationToken.None);
                }

                if (effects.QueuedWork)
                {
                    _notifier.Signal();
                }

                return result;
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure && run < MaxTransactionRuns)
            {
                // Nothing of the transaction survived; lock order (webhook rows before their deliveries) makes this rare.
                PostgresStoreLog.TransactionRetried(_logger, e.SqlState, run);
            }
            catch (NpgsqlException e)
            {
                ForgetConnectionsIfServerWentAway(e);
                throw;
            }
        }
    }

    private async Task<T> ReadAsync<T>(Func<NpgsqlConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            return await work(connection);
        }
        catch (NpgsqlException e)
        {
            ForgetConnectionsIfServerWentAway(e);
            throw;
        }
    }

    /// <summary>
    /// After a restart of PostgreSQL every idle pooled connection is dead; drop them all at once so that the
    /// next requests open fresh ones instead of each failing on a stale one.
    /// </summary>
    private void ForgetConnectionsIfServerWentAway(NpgsqlException e)
    {
        // 57P*: the server is shutting down or restarting; 08*: the connection failed. Other server errors
        // (constraint violations, deadlocks) leave the connection healthy.
        if (e is not PostgresException { SqlState: var state } || state.StartsWith("57P", StringComparison.Ordinal) || state.StartsWith("08", StringComparison.Ordinal))
        {
            _dataSource.Clear();
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, sql);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static NpgsqlCommand Command(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.AddRange(parameters);
        return command;
    }

    private static NpgsqlBatchCommand BatchCommand(string sql, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.AddRange(parameters);
        return command;
    }

    /// <summary>A parameter typed by <typeparamref name="T"/>, so a null still tells PostgreSQL its type.</summary>
    private static NpgsqlParameter<T> P<T>(string name, T value) => new(name, value);

    private static long Ms(DateTimeOffset time) => time.ToUnixTimeMilliseconds();

    private static long? Ms(DateTimeOffset? time) => time?.ToUnixTimeMilliseconds();

    private static DateTimeOffset Time(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    private static DateTimeOffset? TimeOrNull(NpgsqlDataReader reader, int ordinal)
        => reader.IsDBNull(ordinal) ? null : Time(reader.GetInt64(ordinal));

    private static string? StringOrNull(NpgsqlDataReader reader, int ordinal)
        => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private static int? IntOrNull(NpgsqlDataReader reader, int ordinal)
        => reader.IsDBNull(ordinal) ? null : reader.GetInt32(ordinal);

    private static byte[]? BytesOrNull(NpgsqlDataReader reader, int ordinal)
        => reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<byte[]>(ordinal);

    /// <summary>What a write transaction asks to happen once it has committed.</summary>
    private sealed class CommitEffects
    {
        /// <summary>Due work other processes may take was queued without a lease (wake their workers).</summary>
        public bool QueuedWork { get; set; }

        /// <summary>The work's last round trip carried the COMMIT itself: the transaction is over.</summary>
        public bool Committed { get; set; }
    }
}
