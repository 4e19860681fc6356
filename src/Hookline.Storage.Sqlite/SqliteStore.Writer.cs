using System.Diagnostics;
using System.Threading.Channels;
using Hookline.Core.Observability;
using Microsoft.Data.Sqlite;

namespace Hookline.Storage.Sqlite;

/// <summary>
/// The single writer, with group commit. Writes queue up; one loop takes everything queued (up to
/// <see cref="MaxGroup"/>), runs them in one immediate transaction and commits once. With
/// <c>synchronous=FULL</c> every commit is an fsync of the WAL (about half a millisecond here), so a write
/// transaction per request caps the store at some two thousand writes a second however small they are; a
/// group pays that once for every request that arrived meanwhile. A write that throws fails alone (see
/// <see cref="CommitAsync"/>); each caller hears back only after the commit that made its write durable.
/// </summary>
internal sealed partial class SqliteStore
{
    private const int MaxGroup = 64;
    private readonly Channel<PendingWrite> _writes = Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleReader = true });
    private Task? _writing;
    private SqliteConnection? _writer;
    private WriterStatements? _statements;
    private long _commits;

    /// <summary>The writer connection's compiled statements; only for work running on the writer loop.</summary>
    private WriterStatements Statements => _statements ?? throw new InvalidOperationException("Not on the writer.");

    /// <summary>Write transactions committed (each one fsync), for tests and diagnostics.</summary>
    internal long Commits => Interlocked.Read(ref _commits);

    /// <summary>
    /// Runs <paramref name="work"/> in an immediate write transaction on the single writer connection; <paramref name="kind"/>
    /// (a <see cref="WriterWork"/> name) is what its time counts as in the writer's busy metric.
    /// </summary>
    private Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<T>> work, CancellationToken cancellationToken, string kind = WriterWork.Other)
    {
        var write = new PendingWrite<T>(work, kind, cancellationToken);
        lock (_writes)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, this);
            _writing ??= Task.Run(WriteLoopAsync, CancellationToken.None);
            _writes.Writer.TryWrite(write);
        }

        return write.Task;
    }

    /// <summary>
    /// The writer's connection, with a 32 MiB page cache instead of SQLite's 2 MiB: every write walks the due
    /// and per-webhook indexes, and a cache that holds their upper levels saves a read per page per statement.
    /// Readers keep the default (they are pooled, and many).
    /// </summary>
    private async Task<SqliteConnection> OpenWriterAsync()
    {
        var connection = await OpenAsync(CancellationToken.None);
        await ExecuteAsync(connection, "PRAGMA cache_size = -32768;", CancellationToken.None);
        return connection;
    }

    /// <summary>Lets queued writes finish, then closes the writer connection.</summary>
    private async Task StopWritingAsync()
    {
        Task? writing;
        lock (_writes)
        {
            _writes.Writer.TryComplete();
            writing = _writing;
        }

        if (writing is not null)
        {
            await writing;
        }

        await CloseWriterAsync();
    }

    private async Task CloseWriterAsync()
    {
        _statements?.Dispose();
        _statements = null;
        if (_writer is not null)
        {
            await _writer.DisposeAsync();
            _writer = null;
        }
    }

    private async Task WriteLoopAsync()
    {
        var reader = _writes.Reader;
        var group = new List<PendingWrite>(MaxGroup);
        while (await reader.WaitToReadAsync())
        {
            while (group.Count < MaxGroup && reader.TryRead(out var write))
            {
                if (write.CancellationToken.IsCancellationRequested)
                {
                    write.Fail(new OperationCanceledException(write.CancellationToken));
                }
                else
                {
                    group.Add(write);
                }
            }

            if (group.Count > 0)
            {
                await CommitAsync(group);
                group.Clear();
            }
        }
    }

    private async Task CommitAsync(List<PendingWrite> group)
    {
        // Optimistically all in one transaction. Savepoints would isolate a failing write, but SQLite backs each
        // one with a statement journal (a copy of every page it touches), which cost more than the shared fsync
        // saved; writes rarely fail (an unknown account in a batch), so when one does the group is rolled back
        // and each of its writes runs again in its own transaction. Writes are transactions with no effect
        // outside the database, so running one again after a rollback is safe.
        if (group.Count == 1 || !await TryCommitAsync(group, failAlone: false))
        {
            foreach (var write in group)
            {
                await TryCommitAsync([write], failAlone: true);
            }
        }
    }

    /// <summary>
    /// Runs the writes in one transaction and commits. False when a write threw and <paramref name="failAlone"/>
    /// is false (rolled back, nothing failed yet); otherwise the writes get their results or the error.
    /// </summary>
    private async Task<bool> TryCommitAsync(List<PendingWrite> writes, bool failAlone)
    {
        var writing = true;
        try
        {
            if (_writer is null)
            {
                _writer = await OpenWriterAsync();
                _statements = new WriterStatements(_writer);
            }

            await using var transaction = _writer.BeginTransaction(deferred: false);

            // The writer's CPU time over the span its busy time covers (the writes and the commit). Microsoft.Data.Sqlite
            // completes its async calls synchronously, so that span runs on one thread; should it ever resume on
            // another, its CPU time is left out rather than counted wrong.
            var thread = Environment.CurrentManagedThreadId;
            var cpuBefore = _metrics is null ? null : ThreadCpuTime.Now();
            foreach (var write in writes)
            {
                var started = Stopwatch.GetTimestamp();
                await write.RunAsync(_writer, transaction);
                _metrics?.SqliteWriterBusy(write.Kind, Stopwatch.GetTimestamp() - started);
            }

            writing = false;
            var committing = Stopwatch.GetTimestamp();
            await transaction.CommitAsync(CancellationToken.None);
            _metrics?.SqliteCommitted(committing);
            Interlocked.Increment(ref _commits);
            if (cpuBefore is { } before && Environment.CurrentManagedThreadId == thread && ThreadCpuTime.Now() is { } after)
            {
                _metrics?.SqliteWriterCpu(after - before);
            }
        }
        catch (Exception e)
        {
            if (e is SqliteException)
            {
                // The connection may be unusable (disk full, I/O error); open a fresh one for the next write.
                await CloseWriterAsync();
            }

            if (writing && !failAlone)
            {
                return false;
            }

            foreach (var write in writes)
            {
                write.Fail(e);
            }

            return true;
        }

        foreach (var write in writes)
        {
            write.Commit();
        }

        return true;
    }

    private abstract class PendingWrite(string kind, CancellationToken cancellationToken)
    {
        public CancellationToken CancellationToken { get; } = cancellationToken;

        /// <summary>What the write's time counts as (<see cref="WriterWork"/>).</summary>
        public string Kind { get; } = kind;

        public abstract Task RunAsync(SqliteConnection connection, SqliteTransaction transaction);

        /// <summary>The transaction holding the write committed: hand the caller its result.</summary>
        public abstract void Commit();

        public abstract void Fail(Exception exception);
    }

    private sealed class PendingWrite<T>(Func<SqliteConnection, SqliteTransaction, Task<T>> work, string kind, CancellationToken cancellationToken)
        : PendingWrite(kind, cancellationToken)
    {
        // Continuations run elsewhere: the caller's code must never run on (and hold up) the writer loop.
        private readonly TaskCompletionSource<T> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T _result = default!;

        public Task<T> Task => _done.Task;

        public override async Task RunAsync(SqliteConnection connection, SqliteTransaction transaction) => _result = await work(connection, transaction);

        public override void Commit() => _done.TrySetResult(_result);

        public override void Fail(Exception exception)
        {
            if (exception is OperationCanceledException cancelled)
            {
                _done.TrySetCanceled(cancelled.CancellationToken);
            }
            else
            {
                _done.TrySetException(exception);
            }
        }
    }
}
