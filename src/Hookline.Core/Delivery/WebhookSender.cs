using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using Hookline.Core.Destinations;
using Hookline.Receiver;
using Microsoft.Extensions.Options;

namespace Hookline.Core.Delivery;

/// <summary>What one attempt sends: the stored body, signed under the secret in force when the event was created.</summary>
internal sealed record OutgoingRequest(string Url, string EventId, byte[] Body, DeliverySigner? Signer);

/// <summary>
/// Sends one attempt over one shared <see cref="SocketsHttpHandler"/>. Every connection goes through
/// <see cref="UrlPolicy.DecideAsync"/> and dials only the addresses it checked, so a DNS answer that changed
/// since the webhook was saved cannot steer us to a private address. No redirects, no proxy, no
/// decompression, TLS 1.2+, one budget for the whole attempt, and a capped read of the response.
/// </summary>
internal sealed class WebhookSender : IDisposable
{
    private readonly DeliveryOptions _options;
    private readonly UrlPolicy _policy;
    private readonly TimeProvider _time;
    private readonly HttpMessageInvoker _client;
    private readonly IPAddress[] _sourceAddresses;
    private readonly string _userAgent;
    private readonly string _eventIdHeader;
    private readonly string _signatureHeader;
    private int _nextSource;

    public WebhookSender(IOptions<DeliveryOptions> options, UrlPolicy policy, TimeProvider time)
    {
        _options = options.Value;
        _policy = policy;
        _time = time;
        _sourceAddresses = [.. _options.SourceAddresses.Select(IPAddress.Parse)];
        _userAgent = $"{_options.Brand}-Webhook/v1";
        _eventIdHeader = $"X-{_options.Brand}-Event-Id";
        _signatureHeader = $"X-{_options.Brand}-Signature";
        _client = new HttpMessageInvoker(CreateHandler(), disposeHandler: true);
    }

    public async Task<AttemptOutcome> SendAsync(OutgoingRequest outgoing, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        using var budget = new CancellationTokenSource(_options.Timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(budget.Token, cancellationToken);
        try
        {
            using var request = BuildRequest(outgoing);
            using var response = await _client.SendAsync(request, linked.Token);
            var status = (int)response.StatusCode;
            var excerpt = await ReadExcerptAsync(response, linked.Token);
            var elapsed = _time.GetElapsedTime(started);
            var error = status switch
            {
                >= 200 and < 300 => AttemptError.None,
                >= 300 and < 400 => AttemptError.Redirect,
                _ => AttemptError.HttpStatus,
            };
            return new AttemptOutcome(error, status, elapsed, excerpt, RetryAfter(response));
        }
        catch (OperationCanceledException) when (budget.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return AttemptOutcome.Failure(AttemptError.Timeout, _time.GetElapsedTime(started), $"no answer within {_options.Timeout.TotalSeconds:0.###} s");
        }
        catch (HttpRequestException exception)
        {
            var (error, detail) = Classify(exception);
            return AttemptOutcome.Failure(error, _time.GetElapsedTime(started), detail);
        }
    }

    public void Dispose() => _client.Dispose();

    private HttpRequestMessage BuildRequest(OutgoingRequest outgoing)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, outgoing.Url)
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
            Content = new ByteArrayContent(outgoing.Body),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var headers = request.Headers;
        headers.TryAddWithoutValidation("User-Agent", _userAgent);
        headers.TryAddWithoutValidation(_eventIdHeader, outgoing.EventId[Ids.Event.Length..]);
        headers.TryAddWithoutValidation(StandardWebhooks.IdHeader, outgoing.EventId);
        var timestamp = _time.GetUtcNow().ToUnixTimeSeconds();
        headers.TryAddWithoutValidation(StandardWebhooks.TimestampHeader, timestamp.ToString(CultureInfo.InvariantCulture));
        if (outgoing.Signer is { } signer)
        {
            headers.TryAddWithoutValidation(_signatureHeader, signer.RazorpaySignature(outgoing.Body));
            headers.TryAddWithoutValidation(StandardWebhooks.SignatureHeader, signer.StandardSignature(outgoing.EventId, timestamp, outgoing.Body));
        }

        return request;
    }

    private async Task<string?> ReadExcerptAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (_options.ResponseExcerptBytes == 0)
        {
            return null;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(_options.ResponseExcerptBytes);
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            var read = 0;
            try
            {
                while (read < _options.ResponseExcerptBytes)
                {
                    var n = await stream.ReadAsync(buffer.AsMemory(read, _options.ResponseExcerptBytes - read), cancellationToken);
                    if (n == 0)
                    {
                        break;
                    }

                    read += n;
                }
            }
            catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException)
            {
                // The status line already decided the outcome; a body that trickles, resets or is cut off by the
                // budget only shortens the excerpt.
            }

            return read == 0 ? null : Encoding.UTF8.GetString(buffer, 0, read);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        var after = header?.Delta ?? (header?.Date is { } date ? date - _time.GetUtcNow() : null);
        return after is { } value && value >= TimeSpan.Zero ? value : null;
    }

    private static (AttemptError, string) Classify(HttpRequestException exception)
    {
        for (Exception? inner = exception; inner is not null; inner = inner.InnerException)
        {
            switch (inner)
            {
                case BlockedDestinationException blocked:
                    return (blocked.Reason == ConnectReasons.Dns ? AttemptError.Dns : AttemptError.BlockedDestination, blocked.Message);
                case SocketException { SocketErrorCode: SocketError.ConnectionRefused }:
                    return (AttemptError.ConnectionRefused, "connection refused");
                case SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData }:
                    return (AttemptError.Dns, "host name could not be resolved");
                case AuthenticationException authentication:
                    return (AttemptError.Tls, authentication.Message);
            }
        }

        return exception.HttpRequestError switch
        {
            HttpRequestError.NameResolutionError => (AttemptError.Dns, "host name could not be resolved"),
            HttpRequestError.SecureConnectionError => (AttemptError.Tls, exception.Message),
            _ => (AttemptError.Network, exception.Message),
        };
    }

    private SocketsHttpHandler CreateHandler() => new()
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        Proxy = null,
        UseCookies = false,
        AutomaticDecompression = DecompressionMethods.None,
        ConnectTimeout = _options.Timeout,
        MaxConnectionsPerServer = _options.MaxConcurrencyPerWebhook,
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
        // Connections are re-made (and their addresses re-checked) at least this often.
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        MaxResponseHeadersLength = 64,
        MaxResponseDrainSize = 0,
        ResponseDrainTimeout = TimeSpan.Zero,
        ActivityHeadersPropagator = null,
        SslOptions = new SslClientAuthenticationOptions
        {
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            CertificateRevocationCheckMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck,
        },
        ConnectCallback = ConnectAsync,
    };

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var endpoint = context.DnsEndPoint;
        var decision = await _policy.DecideAsync(endpoint.Host, endpoint.Port, cancellationToken);
        if (!decision.Allowed)
        {
            throw new BlockedDestinationException(decision.Reason ?? "blocked");
        }

        SocketException? last = null;
        foreach (var checkedAddress in decision.Addresses)
        {
            // Dial IPv4-mapped answers as IPv4: an IPv6-only socket cannot reach them.
            var address = checkedAddress.IsIPv4MappedToIPv6 ? checkedAddress.MapToIPv4() : checkedAddress;
            var source = SourceFor(address.AddressFamily);
            if (source is null && _sourceAddresses.Length > 0)
            {
                // Egress is pinned to the listed addresses (GET /v1/webhooks/ips): an address of a family none of
                // them has is skipped, never dialled from an address merchants were not told to allow.
                last = new SocketException((int)SocketError.AddressFamilyNotSupported);
                continue;
            }

            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                if (source is not null)
                {
                    socket.Bind(new IPEndPoint(source, 0));
                }

                await socket.ConnectAsync(new IPEndPoint(address, endpoint.Port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw last ?? new SocketException((int)SocketError.HostNotFound);
    }

    private IPAddress? SourceFor(AddressFamily family)
    {
        if (_sourceAddresses.Length == 0)
        {
            return null;
        }

        var start = Interlocked.Increment(ref _nextSource);
        for (var i = 0; i < _sourceAddresses.Length; i++)
        {
            var candidate = _sourceAddresses[(int)((uint)(start + i) % (uint)_sourceAddresses.Length)];
            if (candidate.AddressFamily == family)
            {
                return candidate;
            }
        }

        return null;
    }
}

internal static class ConnectReasons
{
    public const string Dns = "dns";
}

/// <summary>Thrown inside the connect path when the URL policy refuses every address of a host.</summary>
internal sealed class BlockedDestinationException(string reason) : Exception(reason == ConnectReasons.Dns ? "host name could not be resolved" : reason)
{
    public string Reason { get; } = reason;
}
