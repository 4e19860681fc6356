using Hookline.Core.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Hookline.Server.Health;

internal static class HealthApi
{
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/readyz", async (IHooklineStore store, CancellationToken cancellationToken)
            => await store.PingAsync(cancellationToken) ? Results.Text("ready\n") : Results.Text("storage unreachable\n", statusCode: 503));
        // Resolved now, not at the first scrape, so the counts start with the process.
        var exporter = app.ServiceProvider.GetRequiredService<PrometheusExporter>();
        app.MapGet("/metrics", () => Results.Text(exporter.Render(), PrometheusExporter.ContentType));
        return app;
    }
}
