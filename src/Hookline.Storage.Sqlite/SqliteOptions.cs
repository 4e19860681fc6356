namespace Hookline.Storage.Sqlite;

internal sealed class SqliteOptions
{
    public required string DatabasePath { get; init; }
}
