using Microsoft.Extensions.Logging;

namespace Hookline.Cli.Bench;

/// <summary>
/// Counts what an in-process Hookline logs at Warning and above, and keeps the first few distinct messages. The
/// bench's console takes errors only (warnings at this volume, a black-holed endpoint timing out, would drown the
/// progress lines), so without this a failing lease round or a deadlocked results write would pass unseen.
/// </summary>
internal sealed class WarningLog : ILoggerProvider
{
    /// <summary>Logged on every start of a bench instance, which allows loopback targets on purpose.</summary>
    private const string ExpectedCategory = "Hookline.Server.Hosting.StartupTasks";
    private const int Kinds = 5;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (long Count, string First)> _kinds = new(StringComparer.Ordinal);
    private long _count;

    /// <summary>One line for the bench's output, or null when nothing was logged.</summary>
    public string? Summary()
    {
        lock (_gate)
        {
            return _count == 0
                ? null
                : $"Hookline logged {_count:N0} warnings or errors: {string.Join(" | ", _kinds.Select(k => $"{k.Value.Count:N0} × {k.Key}, first: {k.Value.First}"))}";
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    /// <summary>Counted by kind (level, category and event), each kind with its first message.</summary>
    private void Add(string category, LogLevel level, EventId eventId, string message)
    {
        if (category == ExpectedCategory && level == LogLevel.Warning)
        {
            return;
        }

        lock (_gate)
        {
            _count++;
            var kind = $"{level} {category}[{eventId.Name ?? eventId.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)}]";
            if (_kinds.TryGetValue(kind, out var seen))
            {
                _kinds[kind] = (seen.Count + 1, seen.First);
            }
            else if (_kinds.Count < Kinds)
            {
                _kinds[kind] = (1, message.Length > 300 ? message[..300] + "…" : message);
            }
        }
    }

    private sealed class Logger(WarningLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                var message = formatter(state, exception);
                log.Add(category, logLevel, eventId, exception is null ? message : $"{message} ({exception.GetType().Name}: {exception.Message})");
            }
        }
    }
}
