using Hookline.Core;
using Hookline.Core.Accounts;
using Hookline.Core.Storage;
using Hookline.Server.Api;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Hookline.Server.Accounts;

internal static class AccountsApi
{
    public static RouteGroupBuilder MapAccountsApi(this RouteGroupBuilder platform)
    {
        platform.MapPost("/accounts", CreateAsync);
        platform.MapGet("/accounts/{id}", GetAsync);
        platform.MapPost("/accounts/{id}/keys", AddKeyAsync);
        platform.MapDelete("/accounts/{id}/keys/{keyId}", RevokeKeyAsync);
        return platform;
    }

    private static async Task<IResult> CreateAsync(HttpRequest request, IAccountStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        var body = RequestObject.Parse(await BodyReader.ReadAsync(request, 64 * 1024, cancellationToken), "name", "email");
        var name = body.String("name", required: true, maxLength: 200)!;
        var email = body.String("email", required: true, maxLength: 254)!;
        if (!EmailAddress.IsValid(email))
        {
            throw ApiException.BadRequest("The email must be a valid email address.", "email");
        }

        var now = time.GetUtcNow();
        var account = new Account(Ids.New(Ids.Account), name, email, now);
        var test = NewKey(account.Id, Modes.Test, now);
        var live = NewKey(account.Id, Modes.Live, now);
        await store.CreateAccountAsync(account, [test.Key, live.Key], cancellationToken);
        return Results.Json(new AccountView(account, [KeyView.From(test.Key, test.Secret), KeyView.From(live.Key, live.Secret)]), ApiJson.Options, statusCode: 201);
    }

    private static async Task<IResult> GetAsync(string id, IAccountStore store, CancellationToken cancellationToken)
    {
        var account = await store.GetAccountAsync(id, cancellationToken) ?? throw ApiException.NotFound();
        var keys = await store.ListKeysAsync(id, cancellationToken);
        return Results.Json(new AccountView(account, [.. keys.Select(k => KeyView.From(k, null))]), ApiJson.Options);
    }

    private static async Task<IResult> AddKeyAsync(string id, HttpRequest request, IAccountStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        var body = RequestObject.Parse(await BodyReader.ReadAsync(request, 4096, cancellationToken), "mode");
        var mode = body.String("mode", required: true)!;
        if (!Modes.IsValid(mode))
        {
            throw ApiException.BadRequest("The mode must be test or live.", "mode");
        }

        _ = await store.GetAccountAsync(id, cancellationToken) ?? throw ApiException.NotFound();
        var (key, secret) = NewKey(id, mode, time.GetUtcNow());
        await store.AddKeyAsync(key, cancellationToken);
        return Results.Json(KeyView.From(key, secret), ApiJson.Options, statusCode: 201);
    }

    private static async Task<IResult> RevokeKeyAsync(string id, string keyId, IAccountStore store, TimeProvider time, CancellationToken cancellationToken)
        => await store.RevokeKeyAsync(id, keyId, time.GetUtcNow(), cancellationToken)
            ? Results.Json(new { id = keyId, entity = "key", revoked = true }, ApiJson.Options)
            : throw ApiException.NotFound();

    private static (ApiKey Key, string Secret) NewKey(string accountId, string mode, DateTimeOffset now)
    {
        var secret = KeySecrets.Generate();
        var key = new ApiKey(Ids.New(mode == Modes.Live ? Ids.LiveKey : Ids.TestKey), accountId, mode, KeySecrets.Hash(secret), now, null);
        return (key, secret);
    }

    private sealed record AccountView(string Id, string Entity, string Name, string Email, long CreatedAt, IReadOnlyList<KeyView> Keys)
    {
        public AccountView(Account account, IReadOnlyList<KeyView> keys)
            : this(account.Id, "account", account.Name, account.Email, ApiJson.Seconds(account.CreatedAt), keys)
        {
        }
    }

    /// <summary>A key; <see cref="Secret"/> is set only in the response that created it.</summary>
    private sealed record KeyView(string Id, string Entity, string Mode, string? Secret, long CreatedAt, long? RevokedAt)
    {
        public static KeyView From(ApiKey key, string? secret)
            => new(key.Id, "key", key.Mode, secret, ApiJson.Seconds(key.CreatedAt), ApiJson.Seconds(key.RevokedAt));
    }
}

internal static class EmailAddress
{
    /// <summary>Deliberately simple: one @, a dotted domain, no spaces or control characters.</summary>
    public static bool IsValid(string value)
    {
        if (value.Length is < 3 or > 254 || value.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '<' or '>' or ',' or ';'))
        {
            return false;
        }

        var at = value.IndexOf('@', StringComparison.Ordinal);
        return at > 0 && at == value.LastIndexOf('@') && value.IndexOf('.', at) > at + 1 && !value.EndsWith('.');
    }
}
