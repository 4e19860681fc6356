using System.Reflection;
using Hookline.Core;
using Hookline.Core.Accounts;
using Hookline.Core.Events;
using Hookline.Core.Storage;
using Hookline.Tests.StoreContract;
using Microsoft.Data.Sqlite;

namespace Hookline.Storage.Sqlite.Tests;

/// <summary>The storage contract against a real SQLite file per test, plus what only SQLite has.</summary>
public sealed class SqliteStoreContractTests : StoreContractTests
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "hookline-sqlite-tests", Guid.NewGuid().ToString("N"));

    private string DatabasePath => Path.Combine(_directory, "hookline.db");

    private protected override Task<IHooklineStore> CreateStoreAsync() => OpenAsync();

    private protected override Task<IHooklineStore> ReopenStoreAsync() => OpenAsync();

    protected override Task DeleteStoreDataAsync()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }

        return Task.CompletedTask;
    }

    [Fact]
    public async Task Database_file_is_in_WAL_mode()
    {
        await using var connection = await OpenDirectAsync();

        Assert.Equal("wal", await ScalarAsync<string>(connection, "PRAGMA journal_mode"));
    }

    [Fact]
    public async Task Store_connections_commit_with_synchronous_FULL()
    {
        // synchronous is a per-connection setting, so a separate connection would only report its own default:
        // ask a connection the store itself opened. 2 is FULL.
        var open = typeof(SqliteStore).GetMethod("OpenAsync", BindingFlags.Instance | BindingFlags.NonPublic)
            ?? throw new MissingMethodException(nameof(SqliteStore), "OpenAsync");
        await using var connection = await (Task<SqliteConnection>)open.Invoke(Store, [Ct])!;

        Assert.Equal(2L, await ScalarAsync<long>(connection, "PRAGMA synchronous"));
        Assert.Equal(1L, await ScalarAsync<long>(connection, "PRAGMA foreign_keys"));
    }

    [Fact]
    public async Task Migrating_again_changes_nothing_and_keeps_the_data()
    {
        var account = new Account(Ids.New(Ids.Account), "Acme", "ops@acme.test", new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await Store.CreateAccountAsync(account, [], Ct);

        await Store.MigrateAsync(Ct);
        await using (var second = new SqliteStore(new SqliteOptions { DatabasePath = DatabasePath }))
        {
            await second.MigrateAsync(Ct);
        }

        await using var connection = await OpenDirectAsync();
        var versions = new List<long>();
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT version FROM schema_migrations ORDER BY version";
            await using var reader = await command.ExecuteReaderAsync(Ct);
            while (await reader.ReadAsync(Ct))
            {
                versions.Add(reader.GetInt64(0));
            }
        }

        Assert.Equal(SqliteStore.Migrations().Select(m => (long)m.Version), versions);
        Assert.Equal(account, await Store.GetAccountAsync(account.Id, Ct));
    }

    [Fact]
    public async Task Store_below_a_regular_file_fails_loudly()
    {
        var file = Path.Combine(_directory, "not-a-directory");
        await File.WriteAllTextAsync(file, "x", Ct);

        var failure = await Record.ExceptionAsync(() => OpenAsync(Path.Combine(file, "hookline.db")));

        Assert.True(failure is IOException or SqliteException, $"Unexpected {failure?.GetType().Name ?? "success"}");
    }

    [Fact]
    public async Task Store_on_a_path_that_is_a_directory_fails_loudly_and_reports_unhealthy()
    {
        var path = Path.Combine(_directory, "a-directory.db");
        Directory.CreateDirectory(path);
        await using var store = new SqliteStore(new SqliteOptions { DatabasePath = path });

        await Assert.ThrowsAsync<SqliteException>(() => store.MigrateAsync(Ct));
        Assert.False(await store.PingAsync(Ct));
        await Assert.ThrowsAsync<SqliteException>(() => store.IngestAsync(new IngestBatch([], null, null, null), Ct));
    }

    private Task<IHooklineStore> OpenAsync() => OpenAsync(DatabasePath);

    private async Task<IHooklineStore> OpenAsync(string path)
    {
        var store = new SqliteStore(new SqliteOptions { DatabasePath = path });
        try
        {
            await store.MigrateAsync(Ct);
            return store;
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
    }

    private async Task<SqliteConnection> OpenDirectAsync()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ToString());
        await connection.OpenAsync(Ct);
        return connection;
    }

    private async Task<T> ScalarAsync<T>(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (T)(await command.ExecuteScalarAsync(Ct))!;
    }
}
