using System.Buffers.Binary;
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
/// Two tables without indexes on a PostgreSQL database, one transaction per group: events and outcomes sent in by
/// binary COPY, committed with the server's default durability (a WAL flush). The least any design on PostgreSQL
/// asks of its server per delivery: an event row in, an outcome row in.
/// </summary>
internal sealed class PostgresForwarderLog : ForwarderLog
{
    private readonly NpgsqlConnection _connection;

    public PostgresForwarderLog(string connectionString)
        : base("forwarder postgres log")
    {
        _connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        _connection.Open();
        using (var create = new NpgsqlCommand(
            "CREATE TABLE IF NOT EXISTS floor_events (id text NOT NULL, body bytea NOT NULL); CREATE TABLE IF NOT EXISTS floor_outcomes (id text NOT NULL, status integer NOT NULL)",
            _connection))
        {
            create.ExecuteNonQuery();
        }

        Start();
    }

    protected override void Write(IReadOnlyList<Entry> group)
    {
        using var transaction = _connection.BeginTransaction();
        if (group.Any(e => e.Events is not null))
        {
            using var events = _connection.BeginBinaryImport("COPY floor_events (id, body) FROM STDIN (FORMAT BINARY)");
            foreach (var e in group.Where(e => e.Events is not null).SelectMany(e => e.Events!))
            {
                events.StartRow();
                events.Write(e.Id, NpgsqlDbType.Text);
                events.Write(e.Body, NpgsqlDbType.Bytea);
            }

            events.Complete();
        }

        if (group.Any(e => e.Events is null))
        {
            using var outcomes = _connection.BeginBinaryImport("COPY floor_outcomes (id, status) FROM STDIN (FORMAT BINARY)");
            foreach (var e in group.Where(e => e.Events is null))
            {
                outcomes.StartRow();
                outcomes.Write(e.Id!, NpgsqlDbType.Text);
                outcomes.Write(e.Status, NpgsqlDbType.Integer);
            }

            outcomes.Complete();
        }

        transaction.Commit();
    }

    protected override void Close() => _connection.Dispose();
}
