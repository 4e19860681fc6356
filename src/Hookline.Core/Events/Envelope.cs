using System.Buffers;
using System.Text.Json;

namespace Hookline.Core.Events;

/// <summary>
/// Renders Razorpay's event envelope once, at ingestion. Those exact bytes are stored and sent on every
/// attempt, so signatures stay valid on retries and replays. Key order follows Razorpay's.
/// </summary>
internal static class Envelope
{
    public static byte[] Render(string accountId, string eventName, JsonElement payload, DateTimeOffset createdAt)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = false }))
        {
            writer.WriteStartObject();
            writer.WriteString("entity", "event");
            writer.WriteString("account_id", accountId);
            writer.WriteString("event", eventName);
            writer.WriteStartArray("contains");
            foreach (var property in payload.EnumerateObject())
            {
                writer.WriteStringValue(property.Name);
            }

            writer.WriteEndArray();
            writer.WritePropertyName("payload");
            payload.WriteTo(writer);
            writer.WriteNumber("created_at", createdAt.ToUnixTimeSeconds());
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
