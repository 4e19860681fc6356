using Hookline.Core.Delivery;
using Hookline.Core.Secrets;
using Hookline.Core.Storage;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Hookline.Server.Hosting;

/// <summary>Runs before the server listens: migrations, first-run token, loud warnings about unsafe switches.</summary>
internal sealed partial class StartupTasks(
    IHooklineStore store,
    PlatformToken token,
    SecretProtector protector,
    DataDirectory dataDirectory,
    IOptions<DeliveryOptions> delivery,
    IOptions<StorageOptions> storage,
    IServer server,
    IHostApplicationLifetime lifetime,
    ILogger<StartupTasks> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _ = protector;
        await store.MigrateAsync(cancellationToken);
        if (string.Equals(storage.Value.Provider, "postgres", StringComparison.OrdinalIgnoreCase))
        {
            Log.PostgresStorage(logger, dataDirectory.Path);
        }
        else
        {
            Log.Storage(logger, dataDirectory.Path);
        }
        if (delivery.Value.AllowPrivateNetworks)
        {
            Log.PrivateNetworksAllowed(logger);
        }

        lifetime.ApplicationStarted.Register(() =>
        {
            var urls = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            foreach (var url in urls)
            {
                Log.Listening(logger, url);
            }

            if (token.GeneratedNow is { } generated)
            {
                // Printed once, on the console only, so the operator can copy it; it is stored in the data directory.
                Console.WriteLine();
                Console.WriteLine($"  Platform token (shown once; also in {Path.Combine(dataDirectory.Path, PlatformToken.FileName)}):");
                Console.WriteLine($"  {generated}");
                Console.WriteLine();
            }
        });
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(4001, LogLevel.Information, "Hookline listening on {Url}")]
        public static partial void Listening(ILogger logger, string url);

        [LoggerMessage(4002, LogLevel.Information, "Storage: SQLite in {DataDirectory}")]
        public static partial void Storage(ILogger logger, string dataDirectory);

        [LoggerMessage(4004, LogLevel.Information, "Storage: PostgreSQL (Storage:ConnectionString); token and master key files in {DataDirectory}")]
        public static partial void PostgresStorage(ILogger logger, string dataDirectory);

        [LoggerMessage(4003, LogLevel.Warning, "Delivery:AllowPrivateNetworks is ON: webhooks may target loopback and private addresses on any port. Never use this in production.")]
        public static partial void PrivateNetworksAllowed(ILogger logger);
    }
}
