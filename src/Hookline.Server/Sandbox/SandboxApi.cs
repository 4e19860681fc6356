using System.Text.Json;
using Hookline.Core;
using Hookline.Core.Events;
using Hookline.Core.Sandbox;
using Hookline.Server.Api;
using Hookline.Server.Auth;
using Hookline.Server.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Hookline.Server.Sandbox;

/// <summary>
/// <c>POST /v1/sandbox/trigger {event, …options}</c> (test keys only): runs the sandbox flow of the event and
/// ingests every event it publishes, in order and in one commit, so they are stored and delivered like any other.
/// </summary>
internal static class SandboxApi
{
    private const int MaxBodyBytes = 16 * 1024;

    public static RouteGroupBuilder MapSandboxApi(this RouteGroupBuilder merchant)
    {
        merchant.MapPost("/sandbox/trigger", TriggerAsync);
        return merchant;
    }

    private static async Task<IResult> TriggerAsync(Merchant merchant, HttpRequest request, SandboxFlows sandbox, Ingestion ingestion, CancellationToken cancellationToken)
    {
        if (merchant.Mode != Modes.Test)
        {
            throw ApiException.BadRequest("The sandbox is available with test-mode keys only.");
        }

        var root = RequestObject.ParseElement(await BodyReader.ReadAsync(request, MaxBodyBytes, cancellationToken));
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw ApiException.BadRequest("The request body must be a JSON object.");
        }

        var options = root.EnumerateObject().Where(p => p.Name != "event").ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);
        var name = RequestObject.From(root, "", [.. options.Keys, "event"]).String("event", required: true, maxLength: 128)!;
        if (EventCatalog.Default.Find(name) is null || !sandbox.CanTrigger(name))
        {
            throw ApiException.BadRequest($"Invalid event name/names: {(name.Any(char.IsControl) ? "(unprintable name)" : name)}", "event");
        }

        var now = ingestion.Now();
        try
        {
            var published = await sandbox.TriggerAsync(merchant.AccountId, name, new SandboxOptions(options), now, async events =>
            {
                var created = events.Select(e => ingestion.Create(merchant.AccountId, merchant.Mode, e.Type, JsonSerializer.SerializeToElement(e.Payload), now)).ToList();
                var result = await ingestion.IngestAsync(created, null, null, cancellationToken);
                if (result.Status != IngestStatus.Created)
                {
                    throw new InvalidOperationException($"Sandbox events were not ingested: {result.Status}.");
                }

                var views = result.Events.Select((e, i) => new TriggeredEventView(e.Id, "event", created[i].Name, ApiJson.Seconds(e.CreatedAt), e.Deliveries, events[i].EntityIds)).ToList();
                return (true, views);
            }, cancellationToken);
            return Results.Json(new Collection<TriggeredEventView>(published), ApiJson.Options, statusCode: 201);
        }
        catch (SandboxException e)
        {
            throw ApiException.BadRequest(e.Message, e.Field);
        }
    }

    /// <summary>One published event: its id and name, the deliveries it got, and the ids of the entities it carries, by kind.</summary>
    private sealed record TriggeredEventView(string Id, string Entity, string Event, long CreatedAt, int Deliveries, IReadOnlyDictionary<string, string> Entities);
}
