using Hookline.Core.Storage;
using Hookline.Storage.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

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
                services.AddSingleton<IHooklineStore>(sp => new SqliteStore(new SqliteOptions { DatabasePath = Path.Combine(sp.GetRequiredService<DataDirectory>().Path, "hookline.db") }));
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
