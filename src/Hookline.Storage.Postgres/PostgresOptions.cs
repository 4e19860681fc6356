namespace Hookline.Storage.Postgres;

internal sealed class PostgresOptions
{
    /// <summary>An Npgsql connection string (<c>Host=…;Port=…;Database=…;Username=…;Password=…</c>).</summary>
    public required string ConnectionString { get; init; }
}
