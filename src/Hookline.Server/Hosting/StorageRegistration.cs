using Hookline.Core.Delivery;
using Hookline.Core.Observability;
using Hookline.Core.Storage;
using Hookline.Storage.Postgres;
using Hookline.Storage.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Hookline.Server.Hosting;

/// <summary>Chooses the store from <c>Storage:Provider</c> and exposes it under every port.</summary>
internal static class StorageRegistration
{
    public static IServiceCollection AddHooklineStorage(this IServiceCollection services, IConfiguration configuration)
    {
        var provider = configuration[$"{StorageOptions.Section}:Provider"] ?? "sqlite";
        switch (provider.ToLowerInvariant())
        {
            case "sqlite":
                services.AddSingleton<IHooklineStore>(sp => new SqliteStore(new SqliteOptions
                {
                    DatabasePath = Path.Combine(sp.GetRequiredService<DataDirectory>().Path, "hookline.db"),
                    Metrics = sp.GetRequiredService<HooklineMetrics>(),
                }));
                services.AddSingleton<IWorkSignal>(NoWorkSignal.Instance);
                break;
            case "postgres":
                var connectionString = configuration[$"{StorageOptions.Section}:ConnectionString"];
                if (string.IsNullOrWhiteSpace(connectionString))
                {
                    throw new InvalidOperationException("Storage:ConnectionString is required when Storage:Provider is postgres (hookline serve --postgres \"Host=…;Database=…;Username=…\").");
                }

                // Half the lease: a process frozen inside a transaction loses its row locks before its leases
                // expire, so other workers can take its deliveries over on time.
                var lease = configuration.GetSection(DeliveryOptions.Section).Get<DeliveryOptions>()?.LeaseDuration ?? new DeliveryOptions().LeaseDuration;
                services.AddSingleton<IHooklineStore>(sp => new PostgresStore(
                    new PostgresOptions { ConnectionString = connectionString, IdleInTransactionTimeout = lease / 2 },
                    sp.GetService<ILogger<PostgresStore>>()));
                // Other processes' ingestions and replays wake this one's workers through LISTEN/NOTIFY.
                services.AddSingleton(sp => (IWorkSignal)sp.GetRequiredService<IHooklineStore>());
                break;
            default:
                throw new InvalidOperationException($"Storage:Provider must be sqlite or postgres, not '{provider}'.");
        }

        services.AddSingleton<IAccountStore>(sp => sp.GetRequiredService<IHooklineStore>());
        services.AddSingleton<IWebhookStore>(sp => sp.GetRequiredService<IHooklineStore>());
        services.AddSingleton<IEventStore>(sp => sp.GetRequiredService<IHooklineStore>());
        services.AddSingleton<IDeliveryStore>(sp => sp.GetRequiredService<IHooklineStore>());
        return services;
    }
}
