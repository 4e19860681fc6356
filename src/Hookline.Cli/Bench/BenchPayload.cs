using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hookline.Core.Events;

namespace Hookline.Cli.Bench;

/// <summary>
/// The event every scenario publishes: <c>payment.captured</c> in live mode (production's path) with a payload
/// padded so that the envelope Hookline renders, stores and sends is 1 KiB. S0 posts that same envelope, signed
/// the same way.
/// </summary>
internal static class BenchPayload
{
    public const string EventName = "payment.captured";
    public const int EnvelopeBytes = 1024;
    public const string SampleAccount = "acc_0123456789abcd";

    /// <summary>The <c>payload</c> object of one event (JSON).</summary>
    public static string Payload { get; } = Build();

    /// <summary>What a receiver gets for one event: the rendered envelope, 1 KiB.</summary>
    public static byte[] DeliveredBody(string accountId = SampleAccount)
    {
        using var payload = JsonDocument.Parse(Payload);
        return Envelope.Render(accountId, EventName, payload.RootElement, TimeProvider.System.GetUtcNow());
    }

    /// <summary>One ingestion request body: <c>POST /v1/events</c> when <paramref name="events"/> is null, else the batch.</summary>
    public static byte[] Request(string accountId, int? events)
    {
        var one = $$"""{"account_id":"{{accountId}}","mode":"live","event":"{{EventName}}","payload":{{Payload}}}""";
        return Encoding.UTF8.GetBytes(events is { } count ? $$"""{"events":[{{string.Join(',', Enumerable.Repeat(one, count))}}]}""" : one);
    }

    private static string Build()
    {
        // The catalogue's own sample of the event (a full Razorpay payment entity), its notes padded to 1 KiB.
        var sample = JsonNode.Parse(EventCatalog.Default.Find(EventName)!.Sample.GetRawText())!;
        string With(int padding)
        {
            sample["payment"]!["entity"]!["notes"] = new JsonObject { ["padding"] = new string('x', padding) };
            return sample.ToJsonString();
        }

        var overhead = Length(With(0));
        return With(Math.Max(0, EnvelopeBytes - overhead));
    }

    private static int Length(string payload)
    {
        using var document = JsonDocument.Parse(payload);
        return Envelope.Render(SampleAccount, EventName, document.RootElement, TimeProvider.System.GetUtcNow()).Length;
    }
}
