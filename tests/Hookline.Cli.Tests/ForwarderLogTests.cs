using System.Buffers.Binary;
using System.Text;
using Hookline.Cli.Bench;
using Hookline.Core;
using Microsoft.Data.Sqlite;
using TestCluster = Hookline.Tests.Postgres.PostgresCluster;
using Npgsql;

namespace Hookline.Cli.Tests;

/// <summary>
/// The logs under the bench's S1 floor. The floor stands for a durable forwarder (its 201 follows the events to
/// disk, its outcomes count once durable), so what it writes must all be there, and counted only once written:
/// an append-only file, and two tables on a real PostgreSQL cluster; and the floor's indexed records, in a real SQLite
/// database and on that cluster.
/// </summary>
public sealed class ForwarderLogTests : IDisposable
{
    private const string Account = "acc_floorTest00001";
    private readonly string _directory = Directory.CreateTempSubdirectory("hookline-forwarder-log-").FullName;

    [Fact]
    public async Task File_log_holds_a_requests_events_when_their_append_completes()
    {
        var path = Path.Combine(_directory, "log");
        using var log = new FileForwarderLog(path);

        await log.AppendEventsAsync([new Pending("evt_A", Account, Encoding.UTF8.GetBytes("""{"a":1}""")), new Pending("evt_B", Account, Encoding.UTF8.GetBytes("""{"b":2}"""))]);

        Assert.Equal([("evt_A", """{"a":1}"""), ("evt_B", """{"b":2}""")], ReadFile(path).Select(r => (r.Id, Encoding.UTF8.GetString(r.Bytes))));
    }

    [Fact]
    public async Task File_log_writes_concurrent_events_and_outcomes_once_each_and_counts_outcomes_once()
    {
        var path = Path.Combine(_directory, "log");
        var log = new FileForwarderLog(path);
        await AppendConcurrentlyAsync(log);
        log.Dispose();

        var records = ReadFile(path);
        AssertWrittenOnce(records.Where(r => r.Id.StartsWith("evt_", StringComparison.Ordinal)).Select(r => (r.Id, (int)r.Bytes.Single())).ToList(), records.Where(r => r.Id.StartsWith("out_", StringComparison.Ordinal)).Select(r => (r.Id, BinaryPrimitives.ReadInt32LittleEndian(r.Bytes))).ToList());
        Assert.Equal(1600, records.Count);
        Assert.Equal(800, log.DurableOutcomes);
    }

    [Fact]
    public Task Postgres_log_commits_concurrent_events_and_outcomes_once_each_and_counts_outcomes_once() => InDatabaseAsync("floor", connectionString =>
        AssertKeepsEverythingAsync(
            new PostgresForwarderLog(connectionString),
            () => ReadTableAsync(connectionString, "SELECT id, get_byte(body, 0) FROM floor_events"),
            () => ReadTableAsync(connectionString, "SELECT id, status FROM floor_outcomes")));

    [Fact]
    public async Task Sqlite_records_log_commits_concurrent_events_and_deliveries_once_each_indexed_for_reads()
    {
        var path = Path.Combine(_directory, "records.db");
        await AssertKeepsEverythingAsync(
            new SqliteRecordsLog(path),
            () => Task.FromResult(ReadSqlite(path, "SELECT id, body FROM floor_event_records")),
            () => Task.FromResult(ReadSqlite(path, "SELECT event_id, status FROM floor_delivery_records")));
        AssertRecordShapes(
            ReadSqlite(path, "SELECT account_id, 0 FROM floor_event_records").Select(r => r.Item1),
            ReadSqlite(path, "SELECT id, 0 FROM floor_delivery_records").Select(r => r.Item1),
            ReadSqlite(path, "SELECT webhook_id, 0 FROM floor_delivery_records").Select(r => r.Item1));

        // The reads an API makes go through the indexes (what the records floor pays for).
        Assert.Contains("floor_delivery_records_by_event", Plan(path, "SELECT * FROM floor_delivery_records WHERE event_id = 'evt_1_1'"));
        Assert.Contains("floor_delivery_records_by_webhook", Plan(path, $"SELECT * FROM floor_delivery_records WHERE webhook_id = '{ForwarderRecords.WebhookId}' ORDER BY created_at DESC LIMIT 10"));
        Assert.Contains("floor_event_records_by_account", Plan(path, $"SELECT * FROM floor_event_records WHERE account_id = '{Account}' ORDER BY created_at DESC LIMIT 10"));
    }

    [Fact]
    public Task Postgres_records_log_commits_concurrent_events_and_deliveries_once_each_indexed_for_reads() => InDatabaseAsync("floor_records", async connectionString =>
    {
        await AssertKeepsEverythingAsync(
            new PostgresRecordsLog(connectionString),
            () => ReadTableAsync(connectionString, "SELECT id, get_byte(body, 0) FROM floor_event_records"),
            () => ReadTableAsync(connectionString, "SELECT event_id, status FROM floor_delivery_records"));
        AssertRecordShapes(
            (await ReadTableAsync(connectionString, "SELECT account_id, 0 FROM floor_event_records")).Select(r => r.Item1),
            (await ReadTableAsync(connectionString, "SELECT id, 0 FROM floor_delivery_records")).Select(r => r.Item1),
            (await ReadTableAsync(connectionString, "SELECT webhook_id, 0 FROM floor_delivery_records")).Select(r => r.Item1));
        Assert.Equal(
            ["floor_delivery_records_by_event", "floor_delivery_records_by_webhook", "floor_delivery_records_pkey", "floor_event_records_by_account", "floor_event_records_pkey"],
            (await ReadTableAsync(connectionString, "SELECT indexname, 0 FROM pg_indexes WHERE tablename LIKE 'floor_%' ORDER BY indexname")).Select(r => r.Item1));
    });

    [Fact]
    public void An_id_longer_than_the_file_frame_allows_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => FileForwarderLog.Frame(new MemoryStream(), new string('x', FileForwarderLog.MaxIdLength + 1), []));

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>
    /// What every log must do: a request's event is there for another connection once its append completes; then eight
    /// threads' events and outcomes are all written, once each, and the outcomes counted once. The readers return every
    /// event (id, first byte of its body) and every outcome (the event's id, its status).
    /// </summary>
    private static async Task AssertKeepsEverythingAsync(ForwarderLog log, Func<Task<List<(string Id, int Value)>>> events, Func<Task<List<(string Id, int Value)>>> outcomes)
    {
        await log.AppendEventsAsync([new Pending("evt_first", Account, [7])]);
        Assert.Equal([("evt_first", 7)], await events());

        await AppendConcurrentlyAsync(log);
        log.Dispose();

        AssertWrittenOnce([.. (await events()).Where(r => r.Id != "evt_first")], await outcomes());
        Assert.Equal(800, log.DurableOutcomes);
    }

    /// <summary>Runs <paramref name="test"/> against a fresh database on the shared test cluster, dropped afterwards.</summary>
    private static async Task InDatabaseAsync(string name, Func<string, Task> test)
    {
        var cluster = await TestCluster.SharedAsync();
        var connectionString = await cluster.CreateDatabaseAsync(name);
        try
        {
            await test(connectionString);
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await cluster.DropDatabaseAsync(connectionString);
        }
    }

    /// <summary>Eight threads, a hundred times each: a one-event request (its byte is the thread), then an outcome (200 + thread).</summary>
    private static Task AppendConcurrentlyAsync(ForwarderLog log) => Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Run(async () =>
    {
        for (var i = 0; i < 100; i++)
        {
            var appended = log.AppendEventsAsync([new Pending($"evt_{t}_{i}", Account, [(byte)t])]);
            log.AppendOutcome($"out_{t}_{i}", 200 + t);
            await appended;
        }
    })));

    private static void AssertWrittenOnce(List<(string Id, int Value)> events, List<(string Id, int Value)> outcomes)
    {
        Assert.Equal(800, events.Count);
        Assert.Equal(800, events.Select(r => r.Id).Distinct().Count());
        Assert.All(events, r => Assert.Equal(int.Parse(r.Id.Split('_')[1]), r.Value));
        Assert.Equal(800, outcomes.Count);
        Assert.Equal(800, outcomes.Select(r => r.Id).Distinct().Count());
        Assert.All(outcomes, r => Assert.Equal(200 + int.Parse(r.Id.Split('_')[1]), r.Value));
    }

    /// <summary>Every event row carries its account; every delivery row a delivery id of its own, and the floor's webhook.</summary>
    private static void AssertRecordShapes(IEnumerable<string> accounts, IEnumerable<string> deliveryIds, IEnumerable<string> webhooks)
    {
        Assert.All(accounts, a => Assert.Equal(Account, a));
        var ids = deliveryIds.ToList();
        Assert.Equal(800, ids.Distinct().Count());
        Assert.All(ids, id => Assert.True(Ids.IsValid(id, Ids.Delivery), id));
        Assert.All(webhooks, w => Assert.Equal(ForwarderRecords.WebhookId, w));
    }

    /// <summary>Rows of a text and a number (or a body, read as its first byte).</summary>
    private static List<(string, int)> ReadSqlite(string path, string sql) => QuerySqlite(path, sql, reader => (reader.GetString(0), reader.GetValue(1) switch
    {
        byte[] body => body[0],
        var number => Convert.ToInt32(number, System.Globalization.CultureInfo.InvariantCulture),
    }));

    /// <summary>What SQLite's planner would do for <paramref name="sql"/>, one line per step.</summary>
    private static string Plan(string path, string sql) => string.Join("\n", QuerySqlite(path, $"EXPLAIN QUERY PLAN {sql}", reader => reader.GetString(3)));

    private static List<T> QuerySqlite<T>(string path, string sql, Func<SqliteDataReader, T> row)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false, Mode = SqliteOpenMode.ReadOnly }.ConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read())
        {
            rows.Add(row(reader));
        }

        return rows;
    }

    /// <summary>The frames back: length of the rest, the id's length, the id, the bytes.</summary>
    private static List<(string Id, byte[] Bytes)> ReadFile(string path)
    {
        var all = File.ReadAllBytes(path);
        var records = new List<(string, byte[])>();
        for (var at = 0; at < all.Length;)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(all.AsSpan(at));
            var frame = all.AsSpan(at + 4, length);
            var idLength = frame[0];
            records.Add((Encoding.ASCII.GetString(frame.Slice(1, idLength)), frame[(1 + idLength)..].ToArray()));
            at += 4 + length;
        }

        return records;
    }

    private static async Task<List<(string, int)>> ReadTableAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(string, int)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetString(0), reader.GetInt32(1)));
        }

        return rows;
    }
}
