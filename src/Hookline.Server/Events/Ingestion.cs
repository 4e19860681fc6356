using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Hookline.Core;
using Hookline.Core.Delivery;
using Hookline.Core.Events;
using Hookline.Core.Observability;
using Hookline.Core.Storage;
using Hookline.Server.Api;
using Hookline.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Hookline.Server.Events;

/// <summary>
/// Turns validated requests into committed events. The 2xx goes out only after the store's commit; the
/// deliveries it created are then handed to this process's dispatcher, already leased to it.
/// </summary>
internal sealed class Ingestion(IEventStore store, Dispatcher dispatcher, RetrySchedule schedule, TimeProvider time, IOptions<LimitsOptions> limits, HooklineMetrics metrics)
{
    private static readonly string[] EventFields = ["account_id", "mode", "event", "payload"];

    /// <summary>
    /// Commits <paramref name="events"/>; <paramref name="requestHash"/> is the request's <see cref="RequestHash"/>, which
    /// only a request with an <paramref name="idempotencyKey"/> has.
    /// </summary>
    public async Task<IngestResult> IngestAsync(IReadOnlyList<NewEvent> events, string? idempotencyKey, byte[]? requestHash, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var result = await store.IngestAsync(new IngestBatch(events, idempotencyKey, idempotencyKey is null ? null : requestHash, dispatcher.GrantForIngestion()), cancellationToken);
        metrics.Ingested(result.Status == IngestStatus.Created ? result.Events.Count : 0, started);
        dispatcher.Accept(result);
        return result;
    }

    /// <summary>Reads and validates one event object; <paramref name="prefix"/> names it in errors (<c>events[3].</c>).</summary>
    public NewEvent Parse(JsonElement element, string prefix, DateTimeOffset now)
    {
        var body = RequestObject.From(element, prefix, EventFields);
        var accountId = body.String("account_id", required: true, maxLength: 64)!;
        if (!Ids.IsValid(accountId, Ids.Account))
        {
            throw ApiException.BadRequest($"The {prefix}account_id is not a valid account id.", prefix + "account_id");
        }

        var mode = body.String("mode", required: true)!;
        if (!Modes.IsValid(mode))
        {
            throw ApiException.BadRequest($"The {prefix}mode must be test or live.", prefix + "mode");
        }

        var name = body.String("event", required: true, maxLength: 128)!;
        var type = EventCatalog.Default.Find(name)
            ?? throw ApiException.BadRequest($"Invalid event name/names: {(name.Any(char.IsControl) ? "(unprintable name)" : name)}", prefix + "event");

        if (body.Element("payload") is not { ValueKind: JsonValueKind.Object } payload)
        {
            throw ApiException.BadRequest($"The {prefix}payload must be an object of entities.", prefix + "payload");
        }

        if (limits.Value.ValidatesPayloads(mode) && type.Validate(payload, prefix) is { } violation)
        {
            throw ApiException.BadRequest($"The payload does not match the schema of {type.Name}: {violation}.", violation.Path);
        }

        return Create(accountId, mode, type, payload, now);
    }

    public NewEvent Create(string accountId, string mode, EventType type, JsonElement payload, DateTimeOffset now)
        => new(Ids.New(Ids.Event), accountId, mode, type.Name, type.Product, Envelope.Render(accountId, type.Name, payload, now), now, schedule.Deadline(now));

    /// <summary>Commits a test event with one delivery, to <paramref name="webhookId"/> only.</summary>
    public async Task<IngestResult> TestFireAsync(NewEvent evt, string webhookId, CancellationToken cancellationToken)
    {
        var result = await store.IngestAsync(new IngestBatch([evt], null, null, dispatcher.GrantForIngestion(), webhookId), cancellationToken);
        dispatcher.ClearFailures(webhookId);
        dispatcher.Accept(result);
        return result;
    }

    public DateTimeOffset Now() => time.GetUtcNow();

    /// <summary>
    /// What a repeat of an idempotent request must match: SHA-256 of its path and body. Null without an
    /// <paramref name="idempotencyKey"/>, where nothing compares it, so unkeyed requests are not hashed at all.
    /// </summary>
    public static byte[]? RequestHash(string? idempotencyKey, string path, byte[] body)
    {
        if (idempotencyKey is null)
        {
            return null;
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(path + "\n"));
        hash.AppendData(body);
        return hash.GetHashAndReset();
    }
}
