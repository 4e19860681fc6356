using Hookline.Core.Observability;

namespace Hookline.Storage.Sqlite;

internal sealed class SqliteOptions
{
    public required string DatabasePath { get; init; }

    /// <summary>Where the writer reports how long each commit (WAL append and fsync) took; none in store-only tests.</summary>
    public HooklineMetrics? Metrics { get; init; }
}
