using System.Net;
using System.Text;
using System.Text.Json;
using Hookline.Server.Tests.Infrastructure;

namespace Hookline.Server.Tests.Api;

/// <summary>HTTP Basic with an API key on merchant routes; the platform token on platform routes; never one for the other.</summary>
public sealed class MerchantAuthTests : IAsyncLifetime
{
    private HooklineHost _host = null!;
    private TestReceiver _receiver = null!;
    private string _accountId = null!;
    private (string Id, string Secret) _testKey;
    private (string Id, string Secret) _liveKey;

    public async Task InitializeAsync()
    {
        _host = await HooklineHost.StartAsync();
        _receiver = await TestReceiver.StartAsync();
        var created = await ApiAssert.JsonAsync(await _host.Platform.PostJsonAsync("/v1/accounts", """{"name":"Acme","email":"ops@acme.test"}"""), HttpStatusCode.Created);
        _accountId = created.GetProperty("id").GetString()!;
        var keys = created.GetProperty("keys").EnumerateArray().ToDictionary(k => k.GetProperty("mode").GetString()!, k => (k.GetProperty("id").GetString()!, k.GetProperty("secret").GetString()!));
        _testKey = keys["test"];
        _liveKey = keys["live"];
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    public static TheoryData<string, string?> BadAuthorizations => new()
    {
        { "no header", null },
        { "empty Basic", "Basic " },
        { "not base64", "Basic %%%not-base64%%%" },
        { "no colon", "Basic " + B64("hk_test_abcdefghijklmn") },
        { "empty key id", "Basic " + B64(":secret") },
        { "Bearer instead of Basic", "Bearer hk_test_abcdefghijklmn" },
        { "over-long header", "Basic " + B64("hk_test_abcdefghijklmn:" + new string('s', 2000)) },
        { "unknown key id", "Basic " + B64("hk_test_00000000000000:" + new string('s', 24)) },
        { "over-long key id", "Basic " + B64(new string('k', 300) + ":secret") },
    };

    [Theory]
    [MemberData(nameof(BadAuthorizations))]
    public async Task Merchant_route_without_valid_credentials_answers_401(string name, string? authorization)
    {
        using var client = _host.Anonymous();
        foreach (var (method, path) in MerchantRoutes("wh_00000000000000", "evt_00000000000000", "dlv_00000000000000"))
        {
            var request = new HttpRequestMessage(method, path);
            if (method != HttpMethod.Get && method != HttpMethod.Delete)
            {
                request.Content = ApiRequests.Json("""{"url":"http://127.0.0.1/x","events":["payment.captured"]}""");
            }

            if (authorization is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", authorization);
            }

            var response = await client.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{name}: {method} {path} answered {(int)response.StatusCode}");
            await ApiAssert.UnauthorizedAsync(response);
        }
    }

    [Fact]
    public async Task Wrong_secret_for_a_real_key_answers_401()
    {
        using var wrong = _host.WithBasic(_testKey.Id, _testKey.Secret[..^1] + (_testKey.Secret[^1] == 'a' ? 'b' : 'a'));
        using var other = _host.WithBasic(_testKey.Id, _liveKey.Secret);
        using var empty = _host.WithBasic(_testKey.Id, "");

        await ApiAssert.UnauthorizedAsync(await wrong.GetAsync("/v1/webhooks"));
        await ApiAssert.UnauthorizedAsync(await other.GetAsync("/v1/webhooks"));
        await ApiAssert.UnauthorizedAsync(await empty.GetAsync("/v1/webhooks"));
    }

    [Fact]
    public async Task Revoked_key_answers_401_afterwards_while_the_accounts_other_keys_still_work()
    {
        using var test = _host.Merchant(_testKey);
        using var live = _host.Merchant(_liveKey);
        Assert.Equal(HttpStatusCode.OK, (await test.GetAsync("/v1/webhooks")).StatusCode);

        var revoked = await ApiAssert.JsonAsync(await _host.Platform.DeleteAsync($"/v1/accounts/{_accountId}/keys/{_testKey.Id}"), HttpStatusCode.OK);

        Assert.True(revoked.GetProperty("revoked").GetBoolean());
        await ApiAssert.UnauthorizedAsync(await test.GetAsync("/v1/webhooks"));
        await ApiAssert.UnauthorizedAsync(await test.PostJsonAsync("/v1/webhooks", $$"""{"url":"{{_receiver.Url}}","events":["payment.captured"]}"""));
        Assert.Equal(HttpStatusCode.OK, (await live.GetAsync("/v1/webhooks")).StatusCode);
        var account = await _host.Platform.GetJsonAsync($"/v1/accounts/{_accountId}");
        var key = account.GetProperty("keys").EnumerateArray().Single(k => k.GetProperty("id").GetString() == _testKey.Id);
        Assert.Equal(JsonValueKind.Number, key.GetProperty("revoked_at").ValueKind);
    }

    [Fact]
    public async Task Revoking_a_key_through_another_account_is_404_and_the_key_keeps_working()
    {
        var other = await _host.CreateAccountAsync("Globex", "ops@globex.test");
        using var test = _host.Merchant(_testKey);

        await ApiAssert.NotFoundAsync(await _host.Platform.DeleteAsync($"/v1/accounts/{other.Id}/keys/{_testKey.Id}"));
        await ApiAssert.NotFoundAsync(await _host.Platform.DeleteAsync($"/v1/accounts/{_accountId}/keys/hk_test_00000000000000"));

        Assert.Equal(HttpStatusCode.OK, (await test.GetAsync("/v1/webhooks")).StatusCode);
    }

    [Fact]
    public async Task Platform_token_is_not_accepted_on_merchant_routes()
    {
        foreach (var (method, path) in MerchantRoutes("wh_00000000000000", "evt_00000000000000", "dlv_00000000000000"))
        {
            var request = new HttpRequestMessage(method, path);
            if (method == HttpMethod.Post || method == HttpMethod.Patch)
            {
                request.Content = ApiRequests.Json($$"""{"url":"{{_receiver.Url}}","events":["payment.captured"]}""");
            }

            await ApiAssert.UnauthorizedAsync(await _host.Platform.SendAsync(request));
        }

        // Nor as the user or password of Basic.
        using var asBasic = _host.WithBasic(HooklineHost.PlatformToken, HooklineHost.PlatformToken);
        await ApiAssert.UnauthorizedAsync(await asBasic.GetAsync("/v1/webhooks"));
    }

    [Fact]
    public async Task Merchant_keys_are_not_accepted_on_platform_routes()
    {
        using var merchant = _host.Merchant(_testKey);
        using var asBearer = _host.WithAuthorization("Bearer", _testKey.Secret);

        foreach (var client in new[] { merchant, asBearer })
        {
            await ApiAssert.UnauthorizedAsync(await client.PostJsonAsync("/v1/accounts", """{"name":"Evil","email":"evil@evil.test"}"""));
            await ApiAssert.UnauthorizedAsync(await client.GetAsync($"/v1/accounts/{_accountId}"));
            await ApiAssert.UnauthorizedAsync(await client.PostJsonAsync($"/v1/accounts/{_accountId}/keys", """{"mode":"live"}"""));
            await ApiAssert.UnauthorizedAsync(await client.DeleteAsync($"/v1/accounts/{_accountId}/keys/{_liveKey.Id}"));
            await ApiAssert.UnauthorizedAsync(await client.PostJsonAsync("/v1/events", ApiRequests.EventBody(_accountId)));
            await ApiAssert.UnauthorizedAsync(await client.PostJsonAsync("/v1/events/batch", $$"""{"events":[{{ApiRequests.EventBody(_accountId)}}]}"""));
        }

        Assert.Equal(0, await _host.CountEventsAsync(_accountId));
        var account = await _host.Platform.GetJsonAsync($"/v1/accounts/{_accountId}");
        Assert.Equal(2, account.GetProperty("keys").GetArrayLength());
        Assert.All(account.GetProperty("keys").EnumerateArray(), k => Assert.Equal(JsonValueKind.Null, k.GetProperty("revoked_at").ValueKind));
    }

    [Fact]
    public async Task Unknown_route_and_wrong_method_answer_in_the_error_shape()
    {
        using var merchant = _host.Merchant(_testKey);

        await ApiAssert.ErrorAsync(await merchant.GetAsync("/v1/no-such-thing"), HttpStatusCode.NotFound, null);
        await ApiAssert.ErrorAsync(await merchant.PutAsync("/v1/webhooks/wh_00000000000000", ApiRequests.Json("{}")), HttpStatusCode.MethodNotAllowed, null);
    }

    internal static IEnumerable<(HttpMethod Method, string Path)> MerchantRoutes(string webhookId, string eventId, string deliveryId) =>
    [
        (HttpMethod.Get, "/v1/webhooks"),
        (HttpMethod.Post, "/v1/webhooks"),
        (HttpMethod.Get, $"/v1/webhooks/{webhookId}"),
        (HttpMethod.Patch, $"/v1/webhooks/{webhookId}"),
        (HttpMethod.Delete, $"/v1/webhooks/{webhookId}"),
        (HttpMethod.Get, $"/v1/events/{eventId}"),
        (HttpMethod.Get, $"/v1/deliveries/{deliveryId}"),
    ];

    private static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));
}
