using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Threading.Channels;
using Hookline.Core;
using Hookline.Core.Events;
using Hookline.Core.Secrets;
using Hookline.Receiver;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Hookline.Cli.Bench;

/// <summary>
/// The floor under S1: the least any durable webhook forwarder must do per event, built as lean as this machine
/// allows, so that S1 can be read against what is possible here and not only against S0's bare POSTs. It takes
/// S1's batch requests on bare Kestrel, renders each event's envelope as Hookline does, appends the batch to a
/// <see cref="ForwarderLog"/> and answers 201 once it is durable (commits grouped, as Hookline's are), then POSTs
/// each event, signed both ways, over S0's connection settings, and appends each outcome to the same log. No
/// index, no lease, no retry, no authentication, no validation, no metrics: everything Hookline does beyond this
/// is what the gap between this and S1 pays for.
/// </summary>
internal sealed class MinimalForwarder : IHookline
{
    private readonly WebApplication _app;
    private readonly ForwarderLog _log;
    private readonly HttpMessageInvoker _client;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>();
    private readonly Task[] _senders;
    private readonly Uri _target;
    private readonly string _secret = SecretProtector.GenerateWebhookSecret();
    private long _failed;

    private MinimalForwarder(WebApplication app, ForwarderLog log, Uri target, int concurrency)
    {
        _app = app;
        _target = target;
        _log = log;
        _client = new HttpMessageInvoker(RawPostScenario.Handler(concurrency));
        _senders = [.. Enumerable.Range(0, concurrency).Select(_ => Task.Run(SendLoopAsync))];
    }

    public Uri BaseAddress { get; private set; } = null!;

    public long? Recorded => _log.DurableOutcomes;

    public string? Results => $"{_log.DurableOutcomes:N0} recorded, {_queue.Reader.Count:N0} waiting to be sent, {Interlocked.Read(ref _failed):N0} failed";

    /// <summary>Starts on a free loopback port, keeping events and outcomes in <paramref name="log"/> (disposed with the forwarder).</summary>
    public static async Task<MinimalForwarder> StartAsync(ForwarderLog log, Uri target, int concurrency)
    {
        MinimalForwarder? forwarder = null;
        var (_, port) = await BareKestrel.StartAsync(app =>
        {
            forwarder = new MinimalForwarder(app, log, target, concurrency);
            return forwarder.IngestAsync;
        });
        forwarder!.BaseAddress = new Uri($"http://127.0.0.1:{port}/");
        return forwarder;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        _queue.Writer.TryComplete();
        await Task.WhenAll(_senders);
        _log.Dispose();
        _client.Dispose();
        await _app.DisposeAsync();
    }

    /// <summary>POST /v1/events/batch in S1's shape: one envelope and one delivery per event, 201 once on disk.</summary>
    private async Task IngestAsync(HttpContext context)
    {
        var request = context.Request;
        var body = new byte[(int)(request.ContentLength ?? throw new BadHttpRequestException("Content-Length required"))];
        await request.Body.ReadExactlyAsync(body, context.RequestAborted);
        var now = TimeProvider.System.GetUtcNow();
        List<Pending> events;
        using (var document = JsonDocument.Parse(body))
        {
            var items = document.RootElement.GetProperty("events");
            events = new List<Pending>(items.GetArrayLength());
            foreach (var item in items.EnumerateArray())
            {
                var id = Ids.New(Ids.Event);
                var account = item.GetProperty("account_id").GetString()!;
                var envelope = Envelope.Render(account, item.GetProperty("event").GetString()!, item.GetProperty("payload"), now);
                events.Add(new Pending(id, account, envelope));
            }
        }

        await _log.AppendEventsAsync(events);

        context.Response.StatusCode = StatusCodes.Status201Created;
        context.Response.ContentType = "application/json";
        await using (var json = new Utf8JsonWriter(context.Response.BodyWriter))
        {
            json.WriteStartObject();
            json.WriteStartArray("items");
            foreach (var e in events)
            {
                json.WriteStartObject();
                json.WriteString("id", e.Id);
                json.WriteNumber("deliveries", 1);
                json.WriteNumber("skipped", 0);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        foreach (var e in events)
        {
            _queue.Writer.TryWrite(e);
        }
    }

    private async Task SendLoopAsync()
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync())
        {
            while (reader.TryRead(out var pending))
            {
                _log.AppendOutcome(pending.Id, await SendAsync(pending));
            }
        }
    }

    private async Task<int> SendAsync(Pending pending)
    {
        var timestamp = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, _target) { Version = HttpVersion.Version11, Content = new ByteArrayContent(pending.Body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var headers = request.Headers;
        headers.TryAddWithoutValidation("User-Agent", "Razorpay-Webhook/v1");
        headers.TryAddWithoutValidation("X-Razorpay-Event-Id", pending.Id[Ids.Event.Length..]);
        headers.TryAddWithoutValidation("X-Razorpay-Signature", WebhookSignature.Compute(pending.Body, _secret));
        headers.TryAddWithoutValidation(StandardWebhooks.IdHeader, pending.Id);
        headers.TryAddWithoutValidation(StandardWebhooks.TimestampHeader, timestamp.ToString(CultureInfo.InvariantCulture));
        headers.TryAddWithoutValidation(StandardWebhooks.SignatureHeader, StandardWebhooks.Sign(pending.Id, timestamp, pending.Body, _secret));
        try
        {
            using var response = await _client.SendAsync(request, CancellationToken.None);
            await response.Content.ReadAsByteArrayAsync(CancellationToken.None);
            return (int)response.StatusCode;
        }
        catch (HttpRequestException)
        {
            Interlocked.Increment(ref _failed);
            return 0;
        }
    }
}

/// <summary>One event the floor took: its id, its account and the envelope it sends.</summary>
internal sealed record Pending(string Id, string AccountId, byte[] Body);
