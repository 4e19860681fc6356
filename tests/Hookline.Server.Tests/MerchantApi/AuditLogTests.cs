using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Hookline.Server.Tests.Api;
using Hookline.Server.Tests.Infrastructure;
using Hookline.Testing;

namespace Hookline.Server.Tests.MerchantApi;

/// <summary>
/// <c>GET /v1/webhooks/{id}/audit</c>: every change to a webhook, in order, with the key that made it and the
/// fields it changed; a secret is recorded only as what happened to it, never as its value.
/// </summary>
public sealed class AuditLogTests : IAsyncLifetime
{
    private const string GivenSecret = "audit-given-secret-0001";
    private const string RotatedSecret = "audit-rotated-secret-0002";
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly ManualTimeProvider _clock = new(Start);
    private HooklineHost _host = null!;
    private TestReceiver _receiver = null!;
    private TestAccount _account = null!;
    private string _testKeyId = null!;

    public async Task InitializeAsync()
    {
        _host = await HooklineHost.StartAsync(time: _clock);
        _receiver = await TestReceiver.StartAsync();
        _account = await _host.CreateAccountAsync();
        _testKeyId = (await _host.Platform.GetFromJsonAsync<JsonElement>($"/v1/accounts/{_account.Id}")).GetProperty("keys").EnumerateArray()
            .Single(k => k.GetProperty("mode").GetString() == "test").GetProperty("id").GetString()!;
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    private string Url(string path) => new Uri(_receiver.Url, path).ToString();

    [Fact]
    public async Task Create_patches_and_delete_are_logged_in_order_with_actor_and_changes_and_no_secret()
    {
        var added = await ApiAssert.JsonAsync(await _host.Platform.PostJsonAsync($"/v1/accounts/{_account.Id}/keys", """{"mode":"test"}"""), HttpStatusCode.Created);
        var otherKeyId = added.GetProperty("id").GetString()!;
        using var otherKey = _host.Merchant((otherKeyId, added.GetProperty("secret").GetString()!));

        var created = await ApiAssert.JsonAsync(await _account.Test.PostJsonAsync("/v1/webhooks", JsonSerializer.Serialize(new
        {
            url = Url("/one"), events = new[] { "payment.captured" }, secret = GivenSecret, alert_email = "alerts@acme.test",
        })), HttpStatusCode.Created);
        var id = created.GetProperty("id").GetString()!;
        var afterCreate = await AuditAsync(_account.Test, id);

        await StepAsync(_account.Test, id, JsonSerializer.Serialize(new { url = Url("/two"), events = new[] { "payment.captured", "refund.processed" } }));
        await StepAsync(otherKey, id, $$"""{"secret":"{{RotatedSecret}}"}""");
        var generated = (await StepAsync(_account.Test, id, """{"secret":"generate"}""")).GetProperty("secret").GetString()!;
        await StepAsync(_account.Test, id, """{"secret":null}""");
        await StepAsync(_account.Test, id, """{"active":false,"alert_email":null}""");
        // Refused changes change nothing, so they are not in the log.
        await ApiAssert.ErrorAsync(await _account.Test.PatchJsonAsync($"/v1/webhooks/{id}", """{"url":"ftp://example.com/"}"""), HttpStatusCode.BadRequest, "url");
        await ApiAssert.ErrorAsync(await _account.Test.PatchJsonAsync($"/v1/webhooks/{id}", """{"events":["no.such_event"],"secret":"refused-secret-0003"}"""), HttpStatusCode.BadRequest, "events");
        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(HttpStatusCode.OK, (await otherKey.DeleteAsync($"/v1/webhooks/{id}")).StatusCode);

        var response = await _account.Test.GetAsync($"/v1/webhooks/{id}/audit");
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var audit = JsonDocument.Parse(text).RootElement;
        Assert.Equal("collection", audit.GetProperty("entity").GetString());
        var entries = audit.GetProperty("items").EnumerateArray().ToList();

        Assert.Equal(["created", "updated", "updated", "updated", "updated", "updated", "deleted"], entries.Select(e => e.GetProperty("action").GetString()));
        Assert.Equal([_testKeyId, _testKeyId, otherKeyId, _testKeyId, _testKeyId, _testKeyId, otherKeyId], entries.Select(e => e.GetProperty("actor").GetString()));
        Assert.Equal(Enumerable.Range(0, 7).Select(i => Start.AddMinutes(i).ToUnixTimeSeconds()), entries.Select(e => e.GetProperty("at").GetInt64()));
        Assert.All(entries, e => Assert.Equal("audit_entry", e.GetProperty("entity").GetString()));
        Assert.All(entries, e => Assert.Equal(id, e.GetProperty("webhook_id").GetString()));
        var entryIds = entries.Select(e => e.GetProperty("id").GetInt64()).ToList();
        Assert.Equal(entryIds.Order(), entryIds);

        var changes = entries.Select(e => e.GetProperty("changes")).ToList();
        Assert.Equal(["alert_email", "events", "secret", "url"], changes[0].EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal(Url("/one"), changes[0].GetProperty("url").GetString());
        Assert.Equal("set", changes[0].GetProperty("secret").GetString());
        Assert.Equal(["events", "url"], changes[1].EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal(Url("/two"), changes[1].GetProperty("url").GetString());
        Assert.Equal(["payment.captured", "refund.processed"], changes[1].GetProperty("events").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("""{"secret":"rotated"}""", changes[2].GetRawText());
        Assert.Equal("""{"secret":"generated"}""", changes[3].GetRawText());
        Assert.Equal("""{"secret":"removed"}""", changes[4].GetRawText());
        Assert.False(changes[5].GetProperty("active").GetBoolean());
        Assert.Equal(JsonValueKind.Null, changes[5].GetProperty("alert_email").ValueKind);

        foreach (var secret in new[] { GivenSecret, RotatedSecret, generated, "refused-secret-0003" })
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
            Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(secret)), text, StringComparison.Ordinal);
            Assert.DoesNotContain(Convert.ToHexStringLower(Encoding.UTF8.GetBytes(secret)), text, StringComparison.OrdinalIgnoreCase);
        }

        // Append-only: what was there after the creation is still there, unchanged.
        Assert.Equal(afterCreate.GetProperty("items")[0].GetRawText(), entries[0].GetRawText());
    }

    [Fact]
    public async Task Audit_log_of_another_accounts_or_modes_webhook_is_404()
    {
        var id = (await _account.CreateWebhookAsync(Url("/private"))).GetProperty("id").GetString()!;
        var intruder = await _host.CreateAccountAsync("Globex", "ops@globex.test");

        await ApiAssert.NotFoundAsync(await intruder.Test.GetAsync($"/v1/webhooks/{id}/audit"));
        await ApiAssert.NotFoundAsync(await _account.Live.GetAsync($"/v1/webhooks/{id}/audit"));
        await ApiAssert.NotFoundAsync(await _account.Test.GetAsync("/v1/webhooks/wh_00000000000000/audit"));
        Assert.Equal(1, (await AuditAsync(_account.Test, id)).GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Audit_log_has_no_route_to_change_it()
    {
        var id = (await _account.CreateWebhookAsync(Url("/fixed"))).GetProperty("id").GetString()!;

        foreach (var method in new[] { HttpMethod.Post, HttpMethod.Put, HttpMethod.Patch, HttpMethod.Delete })
        {
            var response = await _account.Test.SendAsync(new HttpRequestMessage(method, $"/v1/webhooks/{id}/audit") { Content = ApiRequests.Json("{}") });
            Assert.True(response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed, $"{method} answered {(int)response.StatusCode}");
        }

        Assert.Equal(1, (await AuditAsync(_account.Test, id)).GetProperty("count").GetInt32());
    }

    private async Task<JsonElement> StepAsync(HttpClient client, string id, string body)
    {
        _clock.Advance(TimeSpan.FromMinutes(1));
        return await ApiAssert.JsonAsync(await client.PatchJsonAsync($"/v1/webhooks/{id}", body), HttpStatusCode.OK);
    }

    private static Task<JsonElement> AuditAsync(HttpClient client, string id) => client.GetJsonAsync($"/v1/webhooks/{id}/audit");
}
