using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Hookline.Receiver;

/// <summary>
/// The body of a webhook (Razorpay's envelope):
/// <c>{"entity":"event","account_id":…,"event":…,"contains":[…],"payload":{…},"created_at":…}</c>.
/// Parse it only after the signature of the raw bytes has been verified.
/// </summary>
/// <param name="Entity">Always <c>event</c> for a webhook body.</param>
/// <param name="AccountId">The merchant account the event belongs to (<c>acc_…</c>).</param>
/// <param name="Event">The event name, such as <c>payment.captured</c>.</param>
/// <param name="Contains">The names of the entities in <paramref name="Payload"/>, such as <c>payment</c>.</param>
/// <param name="Payload">
/// The snapshots of those entities at the moment of the event, each as <c>{"&lt;name&gt;":{"entity":{…}}}</c>;
/// see <see cref="TryGetEntity"/>.
/// </param>
/// <param name="CreatedAt">When the event was created (sent as Unix seconds).</param>
public sealed record WebhookEnvelope(
    string Entity,
    string AccountId,
    string Event,
    IReadOnlyList<string> Contains,
    JsonElement Payload,
    DateTimeOffset CreatedAt)
{
    /// <summary>Parses a webhook body.</summary>
    /// <param name="utf8Json">The raw request body.</param>
    /// <exception cref="FormatException">
    /// The body is not JSON, or lacks one of the envelope's fields, or has one of the wrong type.
    /// </exception>
    public static WebhookEnvelope Parse(ReadOnlySpan<byte> utf8Json)
        => TryParse(utf8Json, out var envelope, out var error) ? envelope : throw error;

    /// <summary>Parses a webhook body, returning <see langword="false"/> when it is not a valid envelope.</summary>
    /// <param name="utf8Json">The raw request body.</param>
    /// <param name="envelope">The envelope, when the body is one.</param>
    public static bool TryParse(ReadOnlySpan<byte> utf8Json, [NotNullWhen(true)] out WebhookEnvelope? envelope)
        => TryParse(utf8Json, out envelope, out _);

    /// <summary>
    /// Finds the snapshot of one entity of the payload: <c>payload.&lt;name&gt;.entity</c>, for instance the
    /// payment of a <c>payment.captured</c> event.
    /// </summary>
    /// <param name="name">The entity name, as listed in <see cref="Contains"/>.</param>
    /// <param name="entity">The entity's JSON object, when present.</param>
    public bool TryGetEntity(string name, out JsonElement entity)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (Payload.TryGetProperty(name, out var wrapper)
            && wrapper.ValueKind == JsonValueKind.Object
            && wrapper.TryGetProperty("entity", out entity)
            && entity.ValueKind == JsonValueKind.Object)
        {
            return true;
        }

        entity = default;
        return false;
    }

    private static bool TryParse(
        ReadOnlySpan<byte> utf8Json,
        [NotNullWhen(true)] out WebhookEnvelope? envelope,
        [NotNullWhen(false)] out FormatException? error)
    {
        envelope = null;
        JsonElement root;
        try
        {
            // ParseValue copies what it reads, so the elements stay valid after the caller's buffer is reused;
            // the extra Read rejects anything but whitespace after the object.
            var reader = new Utf8JsonReader(utf8Json);
            root = JsonElement.ParseValue(ref reader);
            if (reader.Read())
            {
                error = new FormatException("The body holds more than one JSON value.");
                return false;
            }
        }
        catch (JsonException ex)
        {
            error = new FormatException("The body is not valid JSON: " + ex.Message, ex);
            return false;
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            error = new FormatException("The body is not a JSON object.");
            return false;
        }

        if (!TryGetString(root, "entity", out var entity, out error)
            || !TryGetString(root, "account_id", out var accountId, out error)
            || !TryGetString(root, "event", out var eventName, out error)
            || !TryGetContains(root, out var contains, out error)
            || !TryGetProperty(root, "payload", JsonValueKind.Object, out var payload, out error)
            || !TryGetCreatedAt(root, out var createdAt, out error))
        {
            return false;
        }

        envelope = new WebhookEnvelope(entity, accountId, eventName, contains, payload, createdAt);
        return true;
    }

    private static bool TryGetProperty(
        JsonElement root, string name, JsonValueKind kind, out JsonElement value, [NotNullWhen(false)] out FormatException? error)
    {
        if (!root.TryGetProperty(name, out value))
        {
            error = new FormatException($"The envelope has no \"{name}\".");
            return false;
        }

        if (value.ValueKind != kind)
        {
            error = new FormatException($"The envelope's \"{name}\" is {value.ValueKind}, not {kind}.");
            return false;
        }

        error = null;
        return true;
    }

    private static bool TryGetString(
        JsonElement root, string name, [NotNullWhen(true)] out string? value, [NotNullWhen(false)] out FormatException? error)
    {
        value = TryGetProperty(root, name, JsonValueKind.String, out var element, out error) ? element.GetString() : null;
        return value is not null;
    }

    private static bool TryGetContains(
        JsonElement root, [NotNullWhen(true)] out IReadOnlyList<string>? contains, [NotNullWhen(false)] out FormatException? error)
    {
        contains = null;
        if (!TryGetProperty(root, "contains", JsonValueKind.Array, out var array, out error))
        {
            return false;
        }

        var names = new List<string>(array.GetArrayLength());
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                error = new FormatException("The envelope's \"contains\" holds something other than strings.");
                return false;
            }

            names.Add(item.GetString()!);
        }

        contains = names.AsReadOnly();
        return true;
    }

    private static bool TryGetCreatedAt(JsonElement root, out DateTimeOffset createdAt, [NotNullWhen(false)] out FormatException? error)
    {
        createdAt = default;
        if (!TryGetProperty(root, "created_at", JsonValueKind.Number, out var value, out error))
        {
            return false;
        }

        if (!value.TryGetInt64(out var seconds)
            || seconds < DateTimeOffset.MinValue.ToUnixTimeSeconds()
            || seconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds())
        {
            error = new FormatException("The envelope's \"created_at\" is not a whole number of Unix seconds.");
            return false;
        }

        createdAt = DateTimeOffset.FromUnixTimeSeconds(seconds);
        return true;
    }
}
