using System.Buffers.Binary;
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
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Hookline.Cli.Bench;

/// <summary>
/// The floor under S1: the least any durable webhook forwarder must do per event, built as lean as this machine
/// allows, so that S1 can be read against what is possible here and not only against S0's bare POSTs. It takes
/// S1's batch requests on bare Kestrel, renders each event's envelope as Hookline does, appends the batch to one
/// append-only file and answers 201 after its fsync (commits grouped, as Hookline's are), then POSTs each event,
/// signed both ways, over S0's connection settings, and appends each outcome to the same file. No database, no
/// index, no lease, no retry, no authentication, no validation, no metrics: everything Hookline does beyond this
/// is what the gap between this and S1 pays for.
/// </summary>
internal sealed class MinimalForwarder : IHookline
{
    private readonly WebApplication _app;
    private readonly GroupCommitLog _log;
    private readonly HttpMessageInvoker _client;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>();
    private readonly Task[] _senders;
    private readonly Uri _target;
    private readonly string _secret = SecretProtector.GenerateWebhookSecret();
    private long _recorded;
    private long _failed;

    private MinimalForwarder(WebApplication app, string logPath, Uri target, int concurrency)
    {
        _app = app;
        _target = target;
        _log = new GroupCommitLog(logPath, outcomes => Interlocked.Add(ref _recorded, outcomes));
        _client = new HttpMessageInvoker(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            MaxConnectionsPerServer = concurrency,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        });
        _senders = [.. Enumerable.Range(0, concurrency).Select(_ => Task.Run(SendLoopAsync))];
    }

    public Uri BaseAddress { get; private set; } = null!;

    public long? Recorded => Interlocked.Read(ref _recorded);

    public string? Results => $"{Interlocked.Read(ref _recorded):N0} recorded, {_queue.Reader.Count:N0} waiting to be sent, {Interlocked.Read(ref _failed):N0} failed";

    public static async Task<MinimalForwarder> StartAsync(string directory, Uri target, int concurrency)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPAddress.Loopback, 0);
        });
        var app = builder.Build();
        var forwarder = new MinimalForwarder(app, Path.Combine(directory, "forwarder.log"), target, concurrency);
        app.Run(forwarder.IngestAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        forwarder.BaseAddress = new Uri(address);
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
        var record = new MemoryStream();
        using (var document = JsonDocument.Parse(body))
        {
            var items = document.RootElement.GetProperty("events");
            events = new List<Pending>(items.GetArrayLength());
            foreach (var item in items.EnumerateArray())
            {
                var id = Ids.New(Ids.Event);
                var envelope = Envelope.Render(item.GetProperty("account_id").GetString()!, item.GetProperty("event").GetString()!, item.GetProperty("payload"), now);
                events.Add(new Pending(id, envelope));
                GroupCommitLog.Frame(record, id, envelope);
            }
        }

        await _log.AppendAsync(record.ToArray());

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

    private sealed record Pending(string Id, byte[] Body);
}

/// <summary>
/// An append-only file with grouped commits: one thread writes whatever queued while it last wrote, fsyncs once,
/// then releases the waiters of that group. Records are framed (length, id, bytes) and never read back here.
/// </summary>
internal sealed class GroupCommitLog : IDisposable
{
    public const int MaxIdLength = 64;
    private readonly FileStream _file;
    private readonly Action<int> _outcomesDurable;
    private readonly object _gate = new();
    private readonly Thread _thread;
    private List<Entry> _pending = [];
    private List<Entry> _writing = [];
    private bool _closed;

    public GroupCommitLog(string path, Action<int> outcomesDurable)
    {
        _file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 0);
        _outcomesDurable = outcomesDurable;
        _thread = new Thread(Run) { IsBackground = true, Name = "forwarder log" };
        _thread.Start();
    }

    /// <summary>
    /// One record: the length of what follows (32 bits, little-endian), the id's length (one byte), the id (ASCII),
    /// then the bytes (an envelope, or an outcome's status as 32 bits).
    /// </summary>
    public static void Frame(Stream into, string id, ReadOnlySpan<byte> bytes)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(id.Length, MaxIdLength);
        Span<byte> head = stackalloc byte[5 + MaxIdLength];
        var idBytes = System.Text.Encoding.ASCII.GetBytes(id, head[5..]);
        BinaryPrimitives.WriteInt32LittleEndian(head, 1 + idBytes + bytes.Length);
        head[4] = (byte)idBytes;
        into.Write(head[..(5 + idBytes)]);
        into.Write(bytes);
    }

    /// <summary>Completes once the record is on disk.</summary>
    public Task AppendAsync(byte[] record)
    {
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Enqueue(new Entry(record, null, 0, waiter));
        return waiter.Task;
    }

    /// <summary>An attempt's outcome, framed by the writing thread: nobody waits for it; <c>outcomesDurable</c> counts it once on disk.</summary>
    public void AppendOutcome(string id, int status) => Enqueue(new Entry(null, id, status, null));

    public void Dispose()
    {
        lock (_gate)
        {
            _closed = true;
            Monitor.Pulse(_gate);
        }

        _thread.Join();
        _file.Dispose();
    }

    private void Enqueue(Entry entry)
    {
        lock (_gate)
        {
            _pending.Add(entry);
            if (_pending.Count == 1)
            {
                Monitor.Pulse(_gate);
            }
        }
    }

    private void Run()
    {
        var buffer = new MemoryStream();
        Span<byte> status = stackalloc byte[4];
        while (true)
        {
            lock (_gate)
            {
                while (_pending.Count == 0 && !_closed)
                {
                    Monitor.Wait(_gate);
                }

                if (_pending.Count == 0)
                {
                    return;
                }

                (_pending, _writing) = (_writing, _pending);
            }

            buffer.SetLength(0);
            var outcomes = 0;
            foreach (var entry in _writing)
            {
                if (entry.Record is { } record)
                {
                    buffer.Write(record);
                }
                else
                {
                    BinaryPrimitives.WriteInt32LittleEndian(status, entry.Status);
                    Frame(buffer, entry.Id!, status);
                    outcomes++;
                }
            }

            _file.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
            _file.Flush(flushToDisk: true);
            foreach (var entry in _writing)
            {
                entry.Waiter?.TrySetResult();
            }

            _writing.Clear();
            _outcomesDurable(outcomes);
        }
    }

    private readonly record struct Entry(byte[]? Record, string? Id, int Status, TaskCompletionSource? Waiter);
}
