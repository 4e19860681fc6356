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

    [Fact]
    public async Task Concurrent_ingestions_share_commits_and_one_that_fails_fails_alone()
    {
        var at = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var account = new Account(Ids.New(Ids.Account), "Acme", "ops@acme.test", at);
        await Store.CreateAccountAsync(account, [], Ct);
        NewEvent Event(string accountId)
        {
            var id = Ids.New(Ids.Event);
            return new NewEvent(id, accountId, Modes.Test, "payment.captured", Products.Payments, System.Text.Encoding.UTF8.GetBytes($$"""{"id":"{{id}}"}"""), at, at.AddDays(1));
        }

        var good = Enumerable.Range(0, 80).Select(_ => Event(account.Id)).ToList();
        var commitsBefore = ((SqliteStore)Store).Commits;
        var results = await Task.WhenAll(good.Select(e => Task.Run(() => Store.IngestAsync(new IngestBatch([e], null, null, null), Ct))));

        // Eighty writes queued while the first was being written: fewer commits (fsyncs) than writes.
        Assert.All(results, r => Assert.Equal(IngestStatus.Created, r.Status));
        var commits = ((SqliteStore)Store).Commits - commitsBefore;
        Assert.True(commits < good.Count, $"{commits} commits for {good.Count} concurrent writes");

        // A failing write in a group fails alone: the others are committed, it takes nothing with it.
        var more = Enumerable.Range(0, 60).Select(_ => Event(account.Id)).ToList();
        var bad = Enumerable.Range(0, 20).Select(_ => Event(Ids.New(Ids.Account))).ToList();
        results = await Task.WhenAll(more.Concat(bad).Select(e => Task.Run(() => Store.IngestAsync(new IngestBatch([e], null, null, null), Ct))));

        Assert.Equal(more.Count, results.Count(r => r.Status == IngestStatus.Created));
        Assert.Equal(bad.Count, results.Count(r => r.Status == IngestStatus.UnknownAccount));
        foreach (var evt in good.Concat(more))
        {
            Assert.NotNull(await Store.GetEventAsync(account.Id, Modes.Test, evt.Id, Ct));
        }

        foreach (var evt in bad)
        {
            Assert.Null(await Store.GetEventAsync(evt.AccountId, Modes.Test, evt.Id, Ct));
        }

        // A write that SQLite itself refuses (an event id already stored: the primary key) fails alone too, with
        // SQLite's error, and the writer goes on with a fresh connection and freshly compiled statements.
        var last = Enumerable.Range(0, 30).Select(_ => Event(account.Id)).ToList();
        var duplicate = good[0] with { };
        var outcomes = await Task.WhenAll(last.Prepend(duplicate).Select(e => Task.Run(async () =>
        {
            try
            {
                return (await Store.IngestAsync(new IngestBatch([e], null, null, null), Ct)).Status.ToString();
            }
            catch (SqliteException failure)
            {
                return $"sqlite {failure.SqliteErrorCode}";
            }
        })));

        Assert.Equal("sqlite 19", outcomes[0]); // SQLITE_CONSTRAINT
        Assert.All(outcomes.Skip(1), o => Assert.Equal(nameof(IngestStatus.Created), o));
        foreach (var evt in last)
        {
            Assert.NotNull(await Store.GetEventAsync(account.Id, Modes.Test, evt.Id, Ct));
        }
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

    private protected override async Task RefuseAttemptsOfAsync(string deliveryId)
    {
        await using var connection = await OpenDirectAsync(SqliteOpenMode.ReadWrite);
        await using var command = connection.CreateCommand();
        command.CommandText = "CREATE TRIGGER refuse_attempts BEFORE INSERT ON attempts WHEN NEW.delivery_id = $id BEGIN SELECT RAISE(ABORT, 'refused by the test'); END";
        command.CommandText = command.CommandText.Replace("$id", $"'{deliveryId}'", StringComparison.Ordinal);
        await command.ExecuteNonQueryAsync(Ct);
    }

    private async Task<SqliteConnection> OpenDirectAsync(SqliteOpenMode mode = SqliteOpenMode.ReadOnly)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = mode,
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
