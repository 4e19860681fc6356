using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Hookline.Core.Secrets;
using Hookline.Receiver;

namespace Hookline.Cli.Bench;

/// <summary>
/// S0, the limit: <see cref="BenchOptions.Concurrency"/> plain HttpClient loops POST the same signed 1 KiB
/// envelope, with the headers Hookline sends, to the same sink over as many connections as Hookline may use
/// for one webhook. Whatever the machine does with no database, no queue and no signing per request.
/// </summary>
internal static class RawPostScenario
{
    public static async Task<RawPost> MeasureAsync(
        Sink sink, BenchOptions options, TimeSpan duration, TextWriter output, string label)
    {
        var body = BenchPayload.DeliveredBody();
        var secret = SecretProtector.GenerateWebhookSecret();
        var eventId = "evt_Bench00000000S0";
        var timestamp = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds();
        var headers = new (string, string)[]
        {
            ("User-Agent", "Razorpay-Webhook/v1"),
            ("X-Razorpay-Event-Id", eventId["evt_".Length..]),
            ("X-Razorpay-Signature", WebhookSignature.Compute(body, secret)),
            (StandardWebhooks.IdHeader, eventId),
            (StandardWebhooks.TimestampHeader, timestamp.ToString(CultureInfo.InvariantCulture)),
            (StandardWebhooks.SignatureHeader, StandardWebhooks.Sign(eventId, timestamp, body, secret)),
        };

        using var client = new HttpMessageInvoker(Handler(options.Concurrency));
        var url = new Uri(sink.Url(0));
        var latencies = new LatencySamples();
        sink.Reset();
        await using var timeline = new Timeline(() => sink.Total, () => null);
        using var stop = new CancellationTokenSource(duration);
        await using (Progress.Start(output, label, () => $"{sink.Total:N0} requests  {timeline.ReceivedRate(timeline.Now - 1, timeline.Now):N0}/s"))
        {
            await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    var started = Stopwatch.GetTimestamp();
                    using var request = new HttpRequestMessage(HttpMethod.Post, url) { Version = HttpVersion.Version11, Content = new ByteArrayContent(body) };
                    request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                    foreach (var (name, value) in headers)
                    {
                        request.Headers.TryAddWithoutValidation(name, value);
                    }

                    using var response = await client.SendAsync(request, CancellationToken.None);
                    await response.Content.ReadAsByteArrayAsync(CancellationToken.None);
                    latencies.Add(Ticks.Ms(Stopwatch.GetTimestamp() - started));
                }
            }, CancellationToken.None)));
        }

        var end = timeline.Take().Seconds;
        var warmup = Math.Min(options.Warmup.TotalSeconds, end / 3);
        return new RawPost(timeline.ReceivedRate(warmup, end), sink.Total, latencies.Summary(), timeline.CpuMicrosecondsPerItem(warmup, end), timeline.CoresUsed(warmup, end));
    }

    /// <summary>The same connection settings as Hookline's sender (WebhookSender.CreateHandler), minus the URL policy.</summary>
    public static SocketsHttpHandler Handler(int connections) => new()
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        UseCookies = false,
        AutomaticDecompression = DecompressionMethods.None,
        MaxConnectionsPerServer = connections,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
    };
}

/// <summary>One half of S0.</summary>
internal sealed record RawPost(double PerSecond, long Requests, Percentiles Latency, double CpuMicroseconds, double Cores)
{
    /// <summary>The thread pool's spin limit in the process that measured it (<see cref="RawPostProcess"/>).</summary>
    public string? ThreadPoolSpinLimit { get; init; }
}
