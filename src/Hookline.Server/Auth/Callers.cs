using System.Reflection;
using System.Text;
using Hookline.Core.Accounts;
using Hookline.Core.Storage;
using Hookline.Server.Api;
using Hookline.Server.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Hookline.Server.Auth;

/// <summary>The merchant behind a request: the account and the mode of the key it used.</summary>
internal sealed record Merchant(string AccountId, string Mode, string KeyId)
{
    private const string ItemKey = "hookline.merchant";

    /// <summary>Parameter binding runs before endpoint filters, so binding authenticates (once per request).</summary>
    public static async ValueTask<Merchant?> BindAsync(HttpContext context, ParameterInfo parameter)
        => await AuthenticateAsync(context);

    // Compared against when the key id is unknown, so unknown and wrong keys take the same time.
    private static readonly byte[] DecoyHash = KeySecrets.Hash("decoy");

    /// <summary>HTTP Basic with an API key id and secret; the key's mode scopes the request.</summary>
    public static async ValueTask<Merchant> AuthenticateAsync(HttpContext context)
    {
        if (context.Items[ItemKey] is Merchant known)
        {
            return known;
        }

        var limiter = context.RequestServices.GetRequiredService<AuthFailureLimiter>();
        limiter.ThrowIfBlocked(context);
        if (!TryReadBasic(context.Request, out var keyId, out var secret))
        {
            limiter.RecordFailure(context);
            throw MerchantAuthFilter.Unauthorized();
        }

        var accounts = context.RequestServices.GetRequiredService<IAccountStore>();
        var key = keyId.Length <= 64 ? await accounts.FindKeyAsync(keyId, context.RequestAborted) : null;
        var matches = KeySecrets.Matches(secret, key?.SecretHash ?? DecoyHash);
        if (key is null || !matches || key.RevokedAt is not null)
        {
            limiter.RecordFailure(context);
            throw MerchantAuthFilter.Unauthorized();
        }

        var merchant = new Merchant(key.AccountId, key.Mode, key.Id);
        context.Items[ItemKey] = merchant;
        return merchant;
    }

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

/// <summary>Guards every merchant route, including any that does not take a <see cref="Merchant"/> parameter.</summary>
internal sealed class MerchantAuthFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        await Merchant.AuthenticateAsync(context.HttpContext);
        return await next(context);
    }

    internal static ApiException Unauthorized() => new(401, "Authentication failed", null, "authentication_failed");
}

/// <summary>The operator: <c>Authorization: Bearer &lt;platform token&gt;</c>.</summary>
internal sealed class PlatformAuthFilter(PlatformToken token, AuthFailureLimiter limiter) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        limiter.ThrowIfBlocked(context.HttpContext);
        var header = context.HttpContext.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length > 512 || !token.Matches(header["Bearer ".Length..].Trim()))
        {
            limiter.RecordFailure(context.HttpContext);
            throw MerchantAuthFilter.Unauthorized();
        }

        return await next(context);
    }
}
