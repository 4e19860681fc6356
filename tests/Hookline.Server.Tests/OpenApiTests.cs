using System.Text.Json;
using Hookline.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;

namespace Hookline.Server.Tests;

public sealed class OpenApiTests
{
    [Fact]
    public async Task Every_route_the_server_maps_is_in_the_OpenAPI_document()
    {
        await using var host = await HooklineHost.StartAsync();
        using var client = new HttpClient { BaseAddress = host.BaseAddress };
        var document = JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json")).RootElement;
        var paths = document.GetProperty("paths");

        var routes = host.Get<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText is { } raw && !raw.StartsWith("/openapi", StringComparison.Ordinal))
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? []).Select(m => (Path: "/" + e.RoutePattern.RawText!.TrimStart('/'), Method: m.ToLowerInvariant())))
            .ToList();

        Assert.True(routes.Count >= 15, $"only {routes.Count} routes found");
        foreach (var (path, method) in routes)
        {
            Assert.True(paths.TryGetProperty(path, out var item), $"{path} is missing from the OpenAPI document");
            Assert.True(item.TryGetProperty(method, out _), $"{method.ToUpperInvariant()} {path} is missing from the OpenAPI document");
        }

        // And nothing in the document that the server does not serve.
        foreach (var path in paths.EnumerateObject())
        {
            Assert.Contains(routes, r => r.Path == path.Name);
        }
    }
}
