using Microsoft.Extensions.Logging;

namespace Hookline.Storage.Postgres;

internal static partial class PostgresStoreLog
{
    [LoggerMessage(5001, LogLevel.Information, "PostgreSQL migration {Version} applied")]
    public static partial void Migrated(ILogger logger, int version);

    [LoggerMessage(5002, LogLevel.Warning, "Transaction rolled back by PostgreSQL ({SqlState}); running it again (run {Run})")]
    public static partial void TransactionRetried(ILogger logger, string sqlState, int run);

    [LoggerMessage(5003, LogLevel.Warning, "Work notifications unavailable ({Reason}); reconnecting in {Delay}. Polling continues meanwhile.")]
    public static partial void ListenerDisconnected(ILogger logger, string reason, TimeSpan delay);

    [LoggerMessage(5004, LogLevel.Information, "Listening for work notifications")]
    public static partial void ListenerConnected(ILogger logger);

    [LoggerMessage(5005, LogLevel.Warning, "Could not notify other workers of new work; they will find it at their next poll")]
    public static partial void NotifyFailed(ILogger logger, Exception exception);
}
