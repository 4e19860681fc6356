using System.Collections.Concurrent;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;

namespace Hookline.Server.Tests.Api;

internal sealed record RecordedExchange(string Request, string Response);

/// <summary>Keeps every response (status, headers and body) that passed through a client.</summary>
internal sealed class RecordingHandler(ConcurrentQueue<RecordedExchange> log) : DelegatingHandler(new SocketsHttpHandler())
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        await response.Content.LoadIntoBufferAsync(cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        log.Enqueue(new RecordedExchange($"{request.Method} {request.RequestUri}", $"{(int)response.StatusCode}\n{response.Headers}{response.Content.Headers}\n{body}"));
        return response;
    }

    public static HttpClient Client(ConcurrentQueue<RecordedExchange> log, Uri baseAddress, AuthenticationHeaderValue authorization)
        => new(new RecordingHandler(log)) { BaseAddress = baseAddress, DefaultRequestHeaders = { Authorization = authorization } };
}

/// <summary>Keeps every log line written after it is added to the host's logger factory.</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var properties = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(" ", pairs.Select(p => $"{p.Key}={p.Value}")) : "";
            provider.Lines.Enqueue($"{category} {formatter(state, exception)} {properties} {exception}");
        }
    }
}
