using Hookline.Core.Delivery;
using Hookline.Core.Destinations;
using Hookline.Core.Secrets;
using Hookline.Server.Accounts;
using Hookline.Server.Api;
using Hookline.Server.Auth;
using Hookline.Server.Deliveries;
using Hookline.Server.Events;
using Hookline.Server.Health;
using Hookline.Server.Notifications;
using Hookline.Core.Notifications;
using Hookline.Core.Observability;
using Hookline.Core.Storage;
using Hookline.Server.Hosting;
using Hookline.Server.Sandbox;
using Hookline.Core.Sandbox;
using Hookline.Server.Webhooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Hookline.Server;

/// <summary>The one host: API, dispatcher (and later dashboard), each switchable by role.</summary>
public static class HooklineServer
{
    public const string EnvironmentPrefix = "HOOKLINE_";
    public const string DefaultUrls = "http://localhost:8080";

    /// <summary>
    /// Configuration files are read once, at start (options are bound and validated then, never re-read). The
    /// framework's default would watch <c>appsettings.json</c> for changes, and its watcher covers the whole
    /// content root, the working directory, recursively: the default data directory lies inside it, so every
    /// SQLite write woke the watcher's thread (about a fifth of the process's context switches in bench S1). First,
    /// so an operator's own <c>--hostBuilder:reloadConfigOnChange</c> still wins.
    /// </summary>
    private const string ReadConfigurationOnce = "--hostBuilder:reloadConfigOnChange=false";

    /// <summary>
    /// Builds the application. <paramref name="configure"/> runs last, so tests can replace the clock, the
    /// DNS resolver or any option.
    /// </summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [ReadConfigurationOnce, .. args], ContentRootPath = Directory.GetCurrentDirectory() });
        builder.Configuration.AddEnvironmentVariables(EnvironmentPrefix);
        builder.Configuration.AddCommandLine(args);
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            builder.WebHost.UseUrls(DefaultUrls);
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 16 * 1024 * 1024;
        });

        // Request-level framework logs are noise at this volume; Hookline logs what operators act on.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        builder.Logging.AddFilter("System.Net.Http", LogLevel.Warning);
        AddHookline(builder.Services, builder.Configuration);
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseApiErrors();
        MapRoutes(app);
        return app;
    }

    private static void AddHookline(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DeliveryOptions>().Bind(configuration.GetSection(DeliveryOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<DeliveryOptions>>(new ProblemsValidator<DeliveryOptions>(o => o.Validate()));
        services.AddOptions<StorageOptions>().Bind(configuration.GetSection(StorageOptions.Section));
        services.AddOptions<PlatformOptions>().Bind(configuration.GetSection(PlatformOptions.Section));
        services.AddOptions<LimitsOptions>().Bind(configuration.GetSection(LimitsOptions.Section));
        services.AddOptions<ServerOptions>().Bind(configuration.GetSection(ServerOptions.Section));
        services.AddOptions<ReplayOptions>().Bind(configuration.GetSection(ReplayOptions.Section));
        services.AddOptions<SmtpOptions>().Bind(configuration.GetSection(SmtpOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SmtpOptions>>(new ProblemsValidator<SmtpOptions>(o => o.Validate()));
        services.ConfigureHttpJsonOptions(o => ApiJson.Configure(o.SerializerOptions));
        services.AddOpenApi(o => o.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Hookline API";
            document.Info.Description = "Platform routes take Authorization: Bearer <platform token>; merchant routes take HTTP Basic with an API key id and secret.";
            return Task.CompletedTask;
        }));

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IJitterSource, SharedJitterSource>();
        services.TryAddSingleton<IDnsResolver, SystemDnsResolver>();
        services.AddSingleton<DataDirectory>();
        services.AddSingleton(sp => PlatformToken.Load(sp.GetRequiredService<IOptions<PlatformOptions>>().Value.Token, sp.GetRequiredService<DataDirectory>().Path));
        services.AddSingleton(sp => new SecretProtector(MasterKey.Load(configuration["Secrets:MasterKey"], sp.GetRequiredService<DataDirectory>().Path)));

        services.AddHooklineStorage(configuration);

        services.AddSingleton<HooklineMetrics>();
        services.AddSingleton<PrometheusExporter>();
        services.AddSingleton<UrlPolicy>();
        services.AddSingleton<RetrySchedule>();
        services.AddSingleton<WebhookSender>();
        services.AddSingleton<CompletionWriter>();
        services.AddSingleton<Dispatcher>();
        services.AddSingleton(sp => (INotificationStore)sp.GetRequiredService<IHooklineStore>());
        services.AddSingleton(sp =>
        {
            var sender = ActivatorUtilities.CreateInstance<NotificationSender>(sp);
            sp.GetRequiredService<CompletionWriter>().BatchWritten += sender.Wake;
            return sender;
        });
        services.AddSingleton<Ingestion>();
        services.AddSingleton<MerchantAuthFilter>();
        services.AddSingleton<PlatformAuthFilter>();
        services.AddSingleton<AuthFailureLimiter>();
        services.AddSingleton<WebhookLimitGate>();
        services.AddSingleton<SandboxLedger>();
        services.AddSingleton(sp => new SandboxFlows(Hookline.Core.Events.EventCatalog.Default, sp.GetRequiredService<SandboxLedger>()));

        // Order matters: storage is migrated and the first-run secrets exist before anything serves or dispatches.
        services.AddHostedService<StartupTasks>();
        var role = configuration.GetSection(ServerOptions.Section).Get<ServerOptions>() ?? new ServerOptions();
        if (role.Validate().FirstOrDefault() is { } problem)
        {
            throw new OptionsValidationException(ServerOptions.Section, typeof(ServerOptions), [problem]);
        }

        role.ApplyMinThreads();
        if (role.RunsWorker)
        {
            services.AddHostedService(sp => sp.GetRequiredService<Dispatcher>());
            services.AddHostedService(sp => sp.GetRequiredService<NotificationSender>());
        }
    }

    private static void MapRoutes(WebApplication app)
    {
        app.MapHealthApi();
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapNotificationsApi();

        var platform = app.MapGroup("/v1").AddEndpointFilter<PlatformAuthFilter>();
        platform.MapAccountsApi();
        platform.MapIngestionApi();

        var merchant = app.MapGroup("/v1").AddEndpointFilter<MerchantAuthFilter>();
        merchant.MapWebhooksApi();
        merchant.MapWebhookActivityApi();
        merchant.MapEventsApi();
        merchant.MapDeliveriesApi();
        merchant.MapEventTypesApi();
        merchant.MapSandboxApi();
    }
}
