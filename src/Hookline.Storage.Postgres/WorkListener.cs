using Microsoft.Extensions.Logging;
using Npgsql;

namespace Hookline.Storage.Postgres;

/// <summary>
/// LISTENs on <see cref="Channel"/> over one dedicated connection and calls every subscriber on each
/// notification. Transactions that make deliveries due (ingestion, replay) NOTIFY the channel, and PostgreSQL
/// delivers it only when they commit, so a wake-up never precedes its data. When the connection breaks
/// (PostgreSQL restarted, network cut) it reconnects with backoff and wakes subscribers once on reconnecting,
/// because notifications sent meanwhile are lost.
/// </summary>
internal sealed class WorkListener(string connectionString, ILogger logger) : IAsyncDisposable
{
    public const string Channel = "hookline_work";
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MaxRetry = TimeSpan.FromSeconds(2);

    private readonly Lock _lock = new();
    private readonly List<Action> _subscribers = [];
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    public IDisposable Subscribe(Action onWork)
    {
        lock (_lock)
        {
            _subscribers.Add(onWork);
            _loop ??= Task.Run(() => RunAsync(_stop.Token));
        }

        return new Subscription(this, onWork);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            await _loop;
        }

        _stop.Dispose();
    }

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        var delay = FirstRetry;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync(stoppingToken);
                connection.Notification += (_, _) => Wake();
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                PostgresStoreLog.ListenerConnected(logger);
                delay = FirstRetry;
                Wake();
                while (true)
                {
                    // Returns after each notification; throws when the connection breaks.
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Whatever broke the connection, the answer is the same: reconnect; polling covers the gap.
                PostgresStoreLog.ListenerDisconnected(logger, e.Message, delay);
            }

            try
            {
                // Real time on purpose: reconnecting must not depend on a test's frozen clock.
                await Task.Delay(delay, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetry.Ticks));
        }
    }

    private void Wake()
    {
        Action[] subscribers;
        lock (_lock)
        {
            subscribers = [.. _subscribers];
        }

        foreach (var subscriber in subscribers)
        {
            subscriber();
        }
    }

    private sealed class Subscription(WorkListener listener, Action onWork) : IDisposable
    {
        public void Dispose()
        {
            lock (listener._lock)
            {
                listener._subscribers.Remove(onWork);
            }
        }
    }
}
