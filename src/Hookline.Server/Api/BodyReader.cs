using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Hookline.Server.Api;

internal static class BodyReader
{
    /// <summary>Reads the whole body, refusing (413) anything over <paramref name="limit"/> bytes.</summary>
    public static async Task<byte[]> ReadAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            throw new ApiException(413, $"The request body is too large (limit {limit} bytes).", null, "request_too_large");
        }

        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = limit;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                throw new ApiException(413, $"The request body is too large (limit {limit} bytes).", null, "request_too_large");
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}
