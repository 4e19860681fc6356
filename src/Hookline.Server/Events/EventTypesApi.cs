using System.Text.Json;
using System.Text.Json.Nodes;
using Hookline.Core;
using Hookline.Core.Events;
using Hookline.Server.Api;
using Hookline.Server.Auth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Hookline.Server.Events;

/// <summary>The event catalogue: which events exist, for which product, what they contain, their schema and a sample.</summary>
internal static class EventTypesApi
{
    public static RouteGroupBuilder MapEventTypesApi(this RouteGroupBuilder merchant)
    {
        merchant.MapGet("/event_types", List);
        merchant.MapGet("/event_types/{name}", Get);
        return merchant;
    }

    private static IResult List(Merchant merchant, HttpRequest request)
    {
        var product = Paging.Single(request, "product");
        if (product is not null && !Products.IsValid(product))
        {
            throw ApiException.BadRequest("The product must be payments or payouts.", "product");
        }

        var (count, skip) = Paging.Read(request);
        var types = EventCatalog.Default.All.Where(t => product is null || t.Product == product).Skip(skip).Take(count);
        return Results.Json(new Collection<EventTypeView>([.. types.Select(EventTypeView.From)]), ApiJson.Options);
    }

    private static IResult Get(string name, Merchant merchant)
    {
        var type = EventCatalog.Default.Find(name) ?? throw ApiException.NotFound("No event type has this name.");
        var view = EventTypeView.From(type);
        return Results.Json(
            new EventTypeDetailView(view.Name, view.Entity, view.Product, view.Group, view.Contains, view.Description, EventCatalog.Default.BundledSchema(type), type.Sample),
            ApiJson.Options);
    }

    private sealed record EventTypeView(string Name, string Entity, string Product, string Group, IReadOnlyList<string> Contains, string Description)
    {
        public static EventTypeView From(EventType type) => new(type.Name, "event_type", type.Product, type.Group, type.Contains, type.Description);
    }

    private sealed record EventTypeDetailView(
        string Name, string Entity, string Product, string Group, IReadOnlyList<string> Contains, string Description, JsonObject Schema, JsonElement Sample);
}
