using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Hookline.Storage.Postgres;

/// <summary>
/// Tells other processes' workers (through <see cref="WorkListener"/>) that work was committed. The NOTIFY is
/// sent after the commit, on its own, and coalesced: signals raised while one is being sent become one more.
/// Sending it inside the writing transaction would be simpler, but PostgreSQL serialises the commits of all
/// notifying transactions on one lock held through the WAL flush, which capped single-event ingestion at
/// one commit per flush (docs/benchmarks.md). Polling stays the safety net for a signal lost in a crash.
/// </summary>
internal sealed class WorkNotifier(NpgsqlDataSource dataSource, ILogger logger) : IAsyncDisposable
{
    private readonly Channel<bool> _signals = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Lock _lock = new();
    private Task? _loop;

    /// <summary>Sends one NOTIFY soon; call only after the work is committed.</summary>
    public void Signal()
    {
        lock (_lock)
        {
            _loop ??= Task.Run(RunAsync);
        }

        _signals.Writer.TryWrite(true);
    }

    public async ValueTask DisposeAsync()
    {
        _signals.Writer.TryComplete();
        Task? loop;
        lock (_lock)
        {
            loop = _loop;
        }

        if (loop is not null)
        {
            await loop;
        }
    }

    private async Task RunAsync()
    {
        while (await _signals.Reader.WaitToReadAsync())
        {
            _signals.Reader.TryRead(out _);
            try
            {
                await using var notify = dataSource.CreateCommand($"SELECT pg_notify('{WorkListener.Channel}', '')");
                await notify.ExecuteNonQueryAsync();
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                // The workers' polling picks the work up anyway; only the wake-up is late.
                PostgresStoreLog.NotifyFailed(logger, e);
            }
        }
    }
}
