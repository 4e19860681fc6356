using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Hookline.Server.Api;

/// <summary>Renders every failure in Razorpay's error shape; unexpected exceptions become a bare 500.</summary>
internal sealed partial class ErrorHandling(RequestDelegate next, ILogger<ErrorHandling> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
            if (context.Response is { StatusCode: 404 or 405, HasStarted: false } && context.Response.ContentLength is null)
            {
                var description = context.Response.StatusCode == 404 ? "The requested URL was not found on the server." : "The requested method is not allowed for this URL.";
                await WriteAsync(context, context.Response.StatusCode, description, null, "not_found");
            }
        }
        catch (ApiException e) when (!context.Response.HasStarted)
        {
            context.Response.Clear();
            if (e.RetryAfter is not null)
            {
                context.Response.Headers.RetryAfter = e.RetryAfter;
            }

            await WriteAsync(context, e.Status, e.Message, e.Field, e.Reason);
        }
        catch (BadHttpRequestException e) when (!context.Response.HasStarted)
        {
            context.Response.Clear();
            var description = e.StatusCode == 413 ? "The request body is too large." : "The request could not be read.";
            await WriteAsync(context, e.StatusCode, description, null, e.StatusCode == 413 ? "request_too_large" : "bad_request");
        }
        catch (Exception e) when (!context.Response.HasStarted && e is not OperationCanceledException)
        {
            context.Response.Clear();
            Log.Unhandled(logger, e, context.Request.Method, context.Request.Path);
            await WriteAsync(context, 500, "The server could not complete the request. Nothing was accepted; it is safe to retry.", null, "server_error");
        }
    }

    private static Task WriteAsync(HttpContext context, int status, string description, string? field, string reason)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(ApiException.Render(status, description, field, reason), ApiJson.Options);
    }

    private static partial class Log
    {
        [LoggerMessage(3001, LogLevel.Error, "Unhandled error answering {Method} {Path}")]
        public static partial void Unhandled(ILogger logger, Exception exception, string method, string path);
    }
}

internal static class ErrorHandlingExtensions
{
    public static IApplicationBuilder UseApiErrors(this IApplicationBuilder app) => app.UseMiddleware<ErrorHandling>();
}
