namespace Hookline.Storage.Postgres;

internal sealed class PostgresOptions
{
    /// <summary>An Npgsql connection string (<c>Host=…;Port=…;Database=…;Username=…;Password=…</c>).</summary>
    public required string ConnectionString { get; init; }

    /// <summary>
    /// PostgreSQL ends a session that sits inside a transaction doing nothing for this long. A process frozen
    /// mid-transaction (GC pause, SIGSTOP, a suspended VM) would otherwise keep its row locks, and the deliveries
    /// it locked could not be taken over when their leases expire: keep it below the lease duration.
    /// </summary>
    public TimeSpan IdleInTransactionTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
