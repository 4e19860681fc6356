using System.Buffers.Binary;
using Hookline.Core;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;

namespace Hookline.Cli.Bench;

/// <summary>
/// Where <see cref="MinimalForwarder"/> keeps what it must not lose, with grouped commits: one thread writes
/// whatever queued while it last wrote, makes it durable once, then releases that group's waiters. Events are
/// waited for (the 201 follows them to disk); outcomes are not, and are counted once durable
/// (<see cref="DurableOutcomes"/>).
/// </summary>
internal abstract class ForwarderLog : IDisposable
{
    private readonly object _gate = new();
    private readonly Thread _thread;
    private List<Entry> _pending = [];
    private List<Entry> _writing = [];
    private bool _closed;
    private long _durableOutcomes;

    protected ForwarderLog(string name)
    {
        _thread = new Thread(Run) { IsBackground = true, Name = name };
    }

    /// <summary>Outcomes written and made durable so far.</summary>
    public long DurableOutcomes => Interlocked.Read(ref _durableOutcomes);

    /// <summary>Completes once the events are durable.</summary>
    public Task AppendEventsAsync(IReadOnlyList<Pending> events)
    {
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Enqueue(new Entry(events, null, 0, waiter));
        return waiter.Task;
    }

    /// <summary>An attempt's outcome: nobody waits for it; <see cref="DurableOutcomes"/> counts it once durable.</summary>
    public void AppendOutcome(string id, int status) => Enqueue(new Entry(null, id, status, null));

    /// <summary>Writes what is queued, then stops.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _closed = true;
            Monitor.Pulse(_gate);
        }

        if (_thread.IsAlive)
        {
            _thread.Join();
        }

        Close();
    }

    /// <summary>Makes one group durable: every entry's events or outcome, in order.</summary>
    protected abstract void Write(IReadOnlyList<Entry> group);

    protected abstract void Close();

    /// <summary>Starts the writing thread; a subclass calls it once its own state is ready.</summary>
    protected void Start() => _thread.Start();

    private void Enqueue(Entry entry)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            _pending.Add(entry);
            if (_pending.Count == 1)
            {
                Monitor.Pulse(_gate);
            }
        }
    }

    private void Run()
    {
        while (true)
        {
            lock (_gate)
            {
                while (_pending.Count == 0 && !_closed)
                {
                    Monitor.Wait(_gate);
                }

                if (_pending.Count == 0)
                {
                    return;
                }

                (_pending, _writing) = (_writing, _pending);
            }

            try
            {
                Write(_writing);
            }
            catch (Exception e)
            {
                // Nothing in the group is durable: its waiters fail (the 201 is not sent), its outcomes are not counted.
                foreach (var entry in _writing)
                {
                    entry.Waiter?.TrySetException(e);
                }

                _writing.Clear();
                continue;
            }

            var outcomes = 0;
            foreach (var entry in _writing)
            {
                outcomes += entry.Events is null ? 1 : 0;
                entry.Waiter?.TrySetResult();
            }

            _writing.Clear();
            Interlocked.Add(ref _durableOutcomes, outcomes);
        }
    }

    /// <summary>Either a request's events (with the waiter of its 201) or one outcome.</summary>
    protected readonly record struct Entry(IReadOnlyList<Pending>? Events, string? Id, int Status, TaskCompletionSource? Waiter);
}

/// <summary>An append-only file, fsynced once per group: the least any store on this machine's disk writes.</summary>
internal sealed class FileForwarderLog : ForwarderLog
{
    public const int MaxIdLength = 64;
    private readonly FileStream _file;
    private readonly MemoryStream _buffer = new();

    public FileForwarderLog(string path)
        : base("forwarder file log")
    {
        _file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 0);
        Start();
    }

    /// <summary>
    /// One record: the length of what follows (32 bits, little-endian), the id's length (one byte), the id (ASCII),
    /// then the bytes (an envelope, or an outcome's status as 32 bits).
    /// </summary>
    public static void Frame(Stream into, string id, ReadOnlySpan<byte> bytes)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(id.Length, MaxIdLength);
        Span<byte> head = stackalloc byte[5 + MaxIdLength];
        var idBytes = System.Text.Encoding.ASCII.GetBytes(id, head[5..]);
        BinaryPrimitives.WriteInt32LittleEndian(head, 1 + idBytes + bytes.Length);
        head[4] = (byte)idBytes;
        into.Write(head[..(5 + idBytes)]);
        into.Write(bytes);
    }

    protected override void Write(IReadOnlyList<Entry> group)
    {
        _buffer.SetLength(0);
        Span<byte> status = stackalloc byte[4];
        foreach (var entry in group)
        {
            if (entry.Events is { } events)
            {
                foreach (var e in events)
                {
                    Frame(_buffer, e.Id, e.Body);
                }
            }
            else
            {
                BinaryPrimitives.WriteInt32LittleEndian(status, entry.Status);
                Frame(_buffer, entry.Id!, status);
            }
        }

        _file.Write(_buffer.GetBuffer(), 0, (int)_buffer.Length);
        _file.Flush(flushToDisk: true);
    }

    protected override void Close() => _file.Dispose();
}

/// <summary>
/// A log in a PostgreSQL database, one transaction per group: the group's events, then its outcomes, each sent in by
/// binary COPY, committed with the server's default durability (a WAL flush). What the tables are is the subclass's.
/// </summary>
internal abstract class PostgresCopyLog : ForwarderLog
{
    private readonly NpgsqlConnection _connection;

    protected PostgresCopyLog(string connectionString, string name, string schema)
        : base(name)
    {
        _connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        _connection.Open();
        using (var create = new NpgsqlCommand(schema, _connection))
        {
            create.ExecuteNonQuery();
        }

        Start();
    }

    /// <summary>The COPY statement a group's events go in by, one row each (<see cref="WriteEvent"/>).</summary>
    protected abstract string EventsCopy { get; }

    /// <summary>The COPY statement a group's outcomes go in by, one row each (<see cref="WriteOutcome"/>).</summary>
    protected abstract string OutcomesCopy { get; }

    /// <summary>One event's row, started; <paramref name="now"/> is the group's time in Unix milliseconds.</summary>
    protected abstract void WriteEvent(NpgsqlBinaryImporter row, Pending e, long now);

    /// <summary>One outcome's row, started; <paramref name="now"/> is the group's time in Unix milliseconds.</summary>
    protected abstract void WriteOutcome(NpgsqlBinaryImporter row, Entry outcome, long now);

    protected override void Write(IReadOnlyList<Entry> group)
    {
        var now = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
        using var transaction = _connection.BeginTransaction();
        Copy(EventsCopy, group.Where(e => e.Events is not null).SelectMany(e => e.Events!), (row, e) => WriteEvent(row, e, now));
        Copy(OutcomesCopy, group.Where(e => e.Events is null), (row, e) => WriteOutcome(row, e, now));
        transaction.Commit();
    }

    protected override void Close() => _connection.Dispose();

    private void Copy<T>(string sql, IEnumerable<T> rows, Action<NpgsqlBinaryImporter, T> write)
    {
        NpgsqlBinaryImporter? importer = null;
        try
        {
            foreach (var row in rows)
            {
                importer ??= _connection.BeginBinaryImport(sql);
                importer.StartRow();
                write(importer, row);
            }

            importer?.Complete();
        }
        finally
        {
            importer?.Dispose();
        }
    }
}

/// <summary>
/// Two tables without indexes: the least any design on PostgreSQL asks of its server per delivery, an event row in, an
/// outcome row in.
/// </summary>
internal sealed class PostgresForwarderLog(string connectionString) : PostgresCopyLog(
    connectionString,
    "forwarder postgres log",
    "CREATE TABLE IF NOT EXISTS floor_events (id text NOT NULL, body bytea NOT NULL); CREATE TABLE IF NOT EXISTS floor_outcomes (id text NOT NULL, status integer NOT NULL)")
{
    protected override string EventsCopy => "COPY floor_events (id, body) FROM STDIN (FORMAT BINARY)";

    protected override string OutcomesCopy => "COPY floor_outcomes (id, status) FROM STDIN (FORMAT BINARY)";

    protected override void WriteEvent(NpgsqlBinaryImporter row, Pending e, long now)
    {
        row.Write(e.Id, NpgsqlDbType.Text);
        row.Write(e.Body, NpgsqlDbType.Bytea);
    }

    protected override void WriteOutcome(NpgsqlBinaryImporter row, Entry outcome, long now)
    {
        row.Write(outcome.Id!, NpgsqlDbType.Text);
        row.Write(outcome.Status, NpgsqlDbType.Integer);
    }
}

/// <summary>
/// The records a webhook platform must keep to answer its API, and no more: an event row (its body, indexed by id and by
/// account and time) and, once attempted, a delivery row (its outcome, indexed by id, by event, and by webhook and time).
/// No foreign key, lease, retry state or attempt history. Beside the unindexed log of the plain floor, what keeping
/// those records indexed costs the leanest forwarder on each store.
/// </summary>
internal static class ForwarderRecords
{
    /// <summary>The one webhook the floor delivers to (S1's shape); its id only labels the rows.</summary>
    public const string WebhookId = "wh_floor0000000000";

    /// <summary>The schema on both stores, given how each spells an id's type (ordered bytewise) and a body's.</summary>
    public static string Schema(string key, string bytes) => $"""
        CREATE TABLE IF NOT EXISTS floor_event_records (id {key} PRIMARY KEY, account_id {key} NOT NULL, created_at bigint NOT NULL, body {bytes} NOT NULL);
        CREATE INDEX IF NOT EXISTS floor_event_records_by_account ON floor_event_records (account_id, created_at);
        CREATE TABLE IF NOT EXISTS floor_delivery_records (id {key} PRIMARY KEY, event_id {key} NOT NULL, webhook_id {key} NOT NULL, status integer NOT NULL, created_at bigint NOT NULL);
        CREATE INDEX IF NOT EXISTS floor_delivery_records_by_event ON floor_delivery_records (event_id);
        CREATE INDEX IF NOT EXISTS floor_delivery_records_by_webhook ON floor_delivery_records (webhook_id, created_at);
        """;
}

/// <summary><see cref="ForwarderRecords"/> in PostgreSQL: two indexed tables.</summary>
internal sealed class PostgresRecordsLog(string connectionString) : PostgresCopyLog(
    connectionString, "forwarder postgres records", ForwarderRecords.Schema("text COLLATE \"C\"", "bytea"))
{
    protected override string EventsCopy => "COPY floor_event_records (id, account_id, created_at, body) FROM STDIN (FORMAT BINARY)";

    protected override string OutcomesCopy => "COPY floor_delivery_records (id, event_id, webhook_id, status, created_at) FROM STDIN (FORMAT BINARY)";

    protected override void WriteEvent(NpgsqlBinaryImporter row, Pending e, long now)
    {
        row.Write(e.Id, NpgsqlDbType.Text);
        row.Write(e.AccountId, NpgsqlDbType.Text);
        row.Write(now, NpgsqlDbType.Bigint);
        row.Write(e.Body, NpgsqlDbType.Bytea);
    }

    protected override void WriteOutcome(NpgsqlBinaryImporter row, Entry outcome, long now)
    {
        row.Write(Ids.New(Ids.Delivery), NpgsqlDbType.Text);
        row.Write(outcome.Id!, NpgsqlDbType.Text);
        row.Write(ForwarderRecords.WebhookId, NpgsqlDbType.Text);
        row.Write(outcome.Status, NpgsqlDbType.Integer);
        row.Write(now, NpgsqlDbType.Bigint);
    }
}

/// <summary>
/// <see cref="ForwarderRecords"/> in a SQLite database of its own, as Hookline keeps its store: WAL, <c>synchronous=FULL</c>
/// (one fsync per group), a 32 MiB page cache, prepared inserts.
/// </summary>
internal sealed class SqliteRecordsLog : ForwarderLog
{
    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _event;
    private readonly SqliteCommand _delivery;

    public SqliteRecordsLog(string path)
        : base("forwarder sqlite records")
    {
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ConnectionString);
        _connection.Open();
        using (var create = _connection.CreateCommand())
        {
            create.CommandText = $"PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA cache_size = -32768; {ForwarderRecords.Schema("text", "blob")}";
            create.ExecuteNonQuery();
        }

        _event = Prepare("INSERT INTO floor_event_records (id, account_id, created_at, body) VALUES ($1, $2, $3, $4)", 4);
        _delivery = Prepare("INSERT INTO floor_delivery_records (id, event_id, webhook_id, status, created_at) VALUES ($1, $2, $3, $4, $5)", 5);
        Start();
    }

    protected override void Write(IReadOnlyList<Entry> group)
    {
        var now = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
        using var transaction = _connection.BeginTransaction();
        _event.Transaction = transaction;
        _delivery.Transaction = transaction;
        foreach (var entry in group)
        {
            if (entry.Events is { } events)
            {
                foreach (var e in events)
                {
                    var values = _event.Parameters;
                    values[0].Value = e.Id;
                    values[1].Value = e.AccountId;
                    values[2].Value = now;
                    values[3].Value = e.Body;
                    _event.ExecuteNonQuery();
                }
            }
            else
            {
                var values = _delivery.Parameters;
                values[0].Value = Ids.New(Ids.Delivery);
                values[1].Value = entry.Id!;
                values[2].Value = ForwarderRecords.WebhookId;
                values[3].Value = entry.Status;
                values[4].Value = now;
                _delivery.ExecuteNonQuery();
            }
        }

        transaction.Commit();
    }

    protected override void Close()
    {
        _event.Dispose();
        _delivery.Dispose();
        _connection.Dispose();
    }

    private SqliteCommand Prepare(string sql, int parameters)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        for (var i = 1; i <= parameters; i++)
        {
            command.Parameters.Add(new SqliteParameter($"${i}", null));
        }

        command.Prepare();
        return command;
    }
}
