using System.Net;
using System.Text.Json;
using Hookline.Server.Tests.Infrastructure;

namespace Hookline.Server.Tests.Api;

/// <summary>The platform's account routes: creation, keys shown once, added keys that work.</summary>
public sealed class AccountsApiTests : IAsyncLifetime
{
    private HooklineHost _host = null!;

    public async Task InitializeAsync() => _host = await HooklineHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Created_account_has_one_key_pair_per_mode_with_secrets_shown_only_there()
    {
        var created = await ApiAssert.JsonAsync(await _host.Platform.PostJsonAsync("/v1/accounts", """{"name":"Acme Ltd","email":"ops@acme.test"}"""), HttpStatusCode.Created);

        var id = created.GetProperty("id").GetString()!;
        ApiAssert.IsId("acc_", id);
        Assert.Equal("account", created.GetProperty("entity").GetString());
        Assert.Equal("Acme Ltd", created.GetProperty("name").GetString());
        Assert.Equal("ops@acme.test", created.GetProperty("email").GetString());
        var keys = created.GetProperty("keys").EnumerateArray().ToList();
        Assert.Equal(["live", "test"], keys.Select(k => k.GetProperty("mode").GetString()).Order());
        foreach (var key in keys)
        {
            ApiAssert.IsId($"hk_{key.GetProperty("mode").GetString()}_", key.GetProperty("id").GetString());
            Assert.True(key.GetProperty("secret").GetString()!.Length >= 24);
        }

        var fetched = await _host.Platform.GetAsync($"/v1/accounts/{id}");
        var text = await fetched.Content.ReadAsStringAsync();
        var account = await ApiAssert.JsonAsync(fetched, HttpStatusCode.OK);
        Assert.Equal(id, account.GetProperty("id").GetString());
        Assert.Equal(keys.Select(k => k.GetProperty("id").GetString()).Order(), account.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("id").GetString()).Order());
        Assert.All(account.GetProperty("keys").EnumerateArray(), k => Assert.True(!k.TryGetProperty("secret", out var s) || s.ValueKind == JsonValueKind.Null, k.ToString()));
        Assert.All(keys, k => Assert.DoesNotContain(k.GetProperty("secret").GetString()!, text, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("""{"email":"ops@acme.test"}""", "name")]
    [InlineData("""{"name":"","email":"ops@acme.test"}""", "name")]
    [InlineData("""{"name":42,"email":"ops@acme.test"}""", "name")]
    [InlineData("""{"name":"Acme"}""", "email")]
    [InlineData("""{"name":"Acme","email":"not-an-email"}""", "email")]
    [InlineData("""{"name":"Acme","email":"ops@acme"}""", "email")]
    [InlineData("""{"name":"Acme","email":"o ps@acme.test"}""", "email")]
    [InlineData("""{"name":"Acme","email":"ops@acme.test","plan":"gold"}""", "plan")]
    public async Task Invalid_account_is_refused_naming_the_field(string body, string field)
    {
        await ApiAssert.ErrorAsync(await _host.Platform.PostJsonAsync("/v1/accounts", body), HttpStatusCode.BadRequest, field);
    }

    [Theory]
    [InlineData("")]
    [InlineData("null")]
    [InlineData("{")]
    public async Task Unparseable_account_body_is_refused(string body)
    {
        await ApiAssert.ErrorAsync(await _host.Platform.PostJsonAsync("/v1/accounts", body), HttpStatusCode.BadRequest, null);
    }

    [Fact]
    public async Task Unknown_account_is_404()
    {
        await ApiAssert.NotFoundAsync(await _host.Platform.GetAsync("/v1/accounts/acc_00000000000000"));
        await ApiAssert.NotFoundAsync(await _host.Platform.PostJsonAsync("/v1/accounts/acc_00000000000000/keys", """{"mode":"test"}"""));
    }

    [Fact]
    public async Task Added_key_works_in_its_mode_and_its_secret_is_shown_once()
    {
        var account = await _host.CreateAccountAsync();
        var receiver = await TestReceiver.StartAsync();
        await using var _ = receiver;
        var webhook = (await account.CreateWebhookAsync(receiver.Url.ToString(), client: account.Live)).GetProperty("id").GetString();

        var added = await ApiAssert.JsonAsync(await _host.Platform.PostJsonAsync($"/v1/accounts/{account.Id}/keys", """{"mode":"live"}"""), HttpStatusCode.Created);

        var keyId = added.GetProperty("id").GetString()!;
        var secret = added.GetProperty("secret").GetString()!;
        ApiAssert.IsId("hk_live_", keyId);
        Assert.Equal("live", added.GetProperty("mode").GetString());
        using var client = _host.Merchant((keyId, secret));
        var list = await client.GetJsonAsync("/v1/webhooks");
        Assert.Equal([webhook], list.GetProperty("items").EnumerateArray().Select(w => w.GetProperty("id").GetString()));
        var fetched = await (await _host.Platform.GetAsync($"/v1/accounts/{account.Id}")).Content.ReadAsStringAsync();
        Assert.Contains(keyId, fetched, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, fetched, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"mode":"prod"}""", "mode")]
    [InlineData("""{}""", "mode")]
    [InlineData("""{"mode":1}""", "mode")]
    [InlineData("""{"mode":"test","id":"hk_test_aaaaaaaaaaaaaa"}""", "id")]
    public async Task Invalid_key_request_is_refused_naming_the_field(string body, string field)
    {
        var account = await _host.CreateAccountAsync();

        await ApiAssert.ErrorAsync(await _host.Platform.PostJsonAsync($"/v1/accounts/{account.Id}/keys", body), HttpStatusCode.BadRequest, field);

        var keys = (await _host.Platform.GetJsonAsync($"/v1/accounts/{account.Id}")).GetProperty("keys");
        Assert.Equal(2, keys.GetArrayLength());
    }
}
