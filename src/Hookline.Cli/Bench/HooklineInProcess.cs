using System.Globalization;
using Hookline.Core.Delivery;
using Hookline.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Hookline.Cli.Bench;

/// <summary>The Hookline under test, however it runs.</summary>
internal interface IHookline : IAsyncDisposable
{
    Uri BaseAddress { get; }

    /// <summary>Attempt results committed to the store so far, when the bench can see them cheaply (in process).</summary>
    long? Recorded { get; }

    /// <summary>Where the results stand (recorded, waiting to be written, discarded as stale), for a drain that timed out.</summary>
    string? Results { get; }
}

/// <summary>Settings every Hookline under test gets, on top of its store's.</summary>
internal static class HooklineSettings
{
    public static Dictionary<string, string> For(StoreInstance store, BenchOptions options, IReadOnlyDictionary<string, string>? extra = null)
    {
        var settings = new Dictionary<string, string>(store.Settings)
        {
            ["Platform:Token"] = PlatformClient.PlatformToken,
            ["Delivery:AllowPrivateNetworks"] = "true",
            ["Delivery:MaxConcurrencyPerWebhook"] = options.Concurrency.ToString(CultureInfo.InvariantCulture),
            ["Limits:PaymentsWebhooks"] = Sink.MaxWebhooks.ToString(CultureInfo.InvariantCulture),
            // Errors only: warnings at this volume (a black-holed endpoint timing out) would drown the progress lines.
            ["Logging:LogLevel:Default"] = "Error",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            settings[key] = value;
        }

        return settings;
    }
}

/// <summary>Hookline built by <see cref="HooklineServer.Build"/> inside the bench process, on 127.0.0.1 and a free port.</summary>
internal sealed class HooklineInProcess : IHookline
{
    private readonly WebApplication _app;
    private readonly CompletionWriter _writer;
    private readonly WarningLog _warnings;
    private readonly TextWriter? _report;

    private HooklineInProcess(WebApplication app, Uri baseAddress, WarningLog warnings, TextWriter? report)
    {
        _app = app;
        _warnings = warnings;
        _report = report;
        BaseAddress = baseAddress;
        _writer = app.Services.GetRequiredService<CompletionWriter>();
    }

    public Uri BaseAddress { get; }

    public long? Recorded => _writer.Written;

    public string Results => $"recorded {_writer.Written:N0}, waiting to be written {_writer.Unwritten:N0}, discarded as stale {_writer.Discarded:N0}";

    /// <summary>
    /// Starts Hookline in this process; when it stops, it writes to <paramref name="report"/> what it logged at Warning
    /// and above (if anything).
    /// </summary>
    public static async Task<HooklineInProcess> StartAsync(
        StoreInstance store, BenchOptions options, IReadOnlyDictionary<string, string>? extra = null, TextWriter? report = null)
    {
        var settings = HooklineSettings.For(store, options, extra);
        settings["urls"] = "http://127.0.0.1:0";
        var warnings = new WarningLog();
        var app = HooklineServer.Build([.. settings.Select(kv => $"--{kv.Key}={kv.Value}")], builder =>
        {
            builder.Logging.AddProvider(warnings);
            builder.Logging.AddFilter<WarningLog>(null, LogLevel.Warning);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new HooklineInProcess(app, new Uri(address), warnings, report);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (_report is not null && _warnings.Summary() is { } summary)
        {
            await _report.WriteLineAsync($"      {summary}");
        }
    }
}
