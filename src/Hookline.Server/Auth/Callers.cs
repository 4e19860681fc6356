using System.Reflection;
using System.Text;
using Hookline.Core.Accounts;
using Hookline.Core.Storage;
using Hookline.Server.Api;
using Hookline.Server.Hosting;
using Microsoft.AspNetCore.Http;

namespace Hookline.Server.Auth;

/// <summary>The merchant behind a request: the account and the mode of the key it used.</summary>
internal sealed record Merchant(string AccountId, string Mode, string KeyId)
{
    private const string ItemKey = "hookline.merchant";

    public static ValueTask<Merchant?> BindAsync(HttpContext context, ParameterInfo parameter)
        => ValueTask.FromResult(context.Items[ItemKey] as Merchant);

    internal void Attach(HttpContext context) => context.Items[ItemKey] = this;
}

/// <summary>HTTP Basic with an API key id and secret; the key's mode scopes the request.</summary>
internal sealed class MerchantAuthFilter(IAccountStore accounts) : IEndpointFilter
{
    // Compared against when the key id is unknown, so unknown and wrong keys take the same time.
    private static readonly byte[] DecoyHash = KeySecrets.Hash("decoy");

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (!TryReadBasic(http.Request, out var keyId, out var secret))
        {
            throw Unauthorized();
        }

        var key = keyId.Length <= 64 ? await accounts.FindKeyAsync(keyId, http.RequestAborted) : null;
        var matches = KeySecrets.Matches(secret, key?.SecretHash ?? DecoyHash);
        if (key is null || !matches || key.RevokedAt is not null)
        {
            throw Unauthorized();
        }

        new Merchant(key.AccountId, key.Mode, key.Id).Attach(http);
        return await next(context);
    }

    internal static ApiException Unauthorized() => new(401, "Authentication failed", null, "authentication_failed");

    private static bool TryReadBasic(HttpRequest request, out string keyId, out string secret)
    {
        keyId = secret = "";
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase) || header.Length > 1024)
        {
            return false;
        }

        Span<byte> decoded = stackalloc byte[768];
        if (!Convert.TryFromBase64String(header["Basic ".Length..].Trim(), decoded, out var length))
        {
            return false;
        }

        var text = Encoding.UTF8.GetString(decoded[..length]);
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return false;
        }

        keyId = text[..colon];
        secret = text[(colon + 1)..];
        return true;
    }
}

/// <summary>The operator: <c>Authorization: Bearer &lt;platform token&gt;</c>.</summary>
internal sealed class PlatformAuthFilter(PlatformToken token) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var header = context.HttpContext.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length > 512 || !token.Matches(header["Bearer ".Length..].Trim()))
        {
            throw MerchantAuthFilter.Unauthorized();
        }

        return await next(context);
    }
}
