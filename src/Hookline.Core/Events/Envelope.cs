using System.Buffers;
using System.Text.Json;

namespace Hookline.Core.Events;

/// <summary>
/// Renders Razorpay's event envelope once, at ingestion. Those exact bytes are stored and sent on every
/// attempt, so signatures stay valid on retries and replays. Key order follows Razorpay's.
/// </summary>
internal static class Envelope
{
    /// <summary>A thread's buffer is kept for its next envelope unless an unusually large one grew it past this.</summary>
    private const int KeptBufferBytes = 64 * 1024;

    // Every ingested event is rendered here: a fresh buffer grown by doubling was the largest allocation on the
    // ingestion path (measured with an allocation trace of bench S2). Render never awaits, so a thread's buffer
    // and writer are its own for the whole call; only the result is allocated.
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    public static byte[] Render(string accountId, string eventName, JsonElement payload, DateTimeOffset createdAt)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(4096);
        var writer = t_writer ??= new Utf8JsonWriter(buffer);
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        try
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
            writer.Flush();
            return buffer.WrittenSpan.ToArray();
        }
        finally
        {
            if (buffer.Capacity > KeptBufferBytes)
            {
                t_buffer = null;
                t_writer = null;
            }
        }
    }
}
