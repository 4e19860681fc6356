using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Hookline.Cli.Bench;

/// <summary>
/// Kestrel alone on a free 127.0.0.1 port, one handler for every request, no middleware: the bench's own HTTP
/// endpoints (the sink, the S1 floor), so they cost as little as an HTTP server can.
/// </summary>
internal static class BareKestrel
{
    /// <summary>Starts the server; <paramref name="handler"/> is called once the app exists and before it listens.</summary>
    public static async Task<(WebApplication App, int Port)> StartAsync(Func<WebApplication, RequestDelegate> handler)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPAddress.Loopback, 0);
        });
        var app = builder.Build();
        app.Run(handler(app));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, new Uri(address).Port);
    }
}
