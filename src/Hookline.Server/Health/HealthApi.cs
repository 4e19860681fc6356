using Hookline.Core.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Hookline.Server.Health;

internal static class HealthApi
{
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/readyz", async (IHooklineStore store, CancellationToken cancellationToken)
            => await store.PingAsync(cancellationToken) ? Results.Text("ready\n") : Results.Text("storage unreachable\n", statusCode: 503));
        return app;
    }
}
