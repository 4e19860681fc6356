using System.Net;
using System.Text.Json;
using Hookline.Server.Tests.Infrastructure;

namespace Hookline.Server.Tests.Api;

/// <summary>Webhooks CRUD for merchants: the entity, partial updates, validation and deletion.</summary>
public sealed class WebhooksApiTests : IAsyncLifetime
{
    private static readonly string[] EntityFields =
        ["id", "entity", "url", "events", "active", "product", "alert_email", "secret_exists", "created_at", "updated_at", "disabled_at", "disabled_reason"];

    private HooklineHost _host = null!;
    private TestReceiver _receiver = null!;
    private TestAccount _account = null!;

    public async Task InitializeAsync()
    {
        _host = await HooklineHost.StartAsync();
        _receiver = await TestReceiver.StartAsync();
        _account = await _host.CreateAccountAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    private string Url(string path = "/hooks") => new Uri(_receiver.Url, path).ToString();

    [Fact]
    public async Task Created_webhook_is_the_entity_and_get_and_list_show_the_same()
    {
        var body = JsonSerializer.Serialize(new { url = Url(), events = new[] { "payment.captured", "refund.processed" }, alert_email = "alerts@acme.test" });

        var created = await ApiAssert.JsonAsync(await _account.Test.PostJsonAsync("/v1/webhooks", body), HttpStatusCode.Created);

        Assert.All(EntityFields, f => Assert.True(created.TryGetProperty(f, out _), $"missing {f}: {created}"));
        Assert.False(created.TryGetProperty("secret", out _));
        var id = created.GetProperty("id").GetString()!;
        ApiAssert.IsId("wh_", id);
        Assert.Equal("webhook", created.GetProperty("entity").GetString());
        Assert.Equal(Url(), created.GetProperty("url").GetString());
        Assert.Equal(["payment.captured", "refund.processed"], created.GetProperty("events").EnumerateArray().Select(e => e.GetString()));
        Assert.True(created.GetProperty("active").GetBoolean());
        Assert.Equal("payments", created.GetProperty("product").GetString());
        Assert.Equal("alerts@acme.test", created.GetProperty("alert_email").GetString());
        Assert.False(created.GetProperty("secret_exists").GetBoolean());
        Assert.Equal(created.GetProperty("created_at").GetInt64(), created.GetProperty("updated_at").GetInt64());
        Assert.Equal(JsonValueKind.Null, created.GetProperty("disabled_at").ValueKind);

        var fetched = await _account.Test.GetJsonAsync($"/v1/webhooks/{id}");
        Assert.Equal(created.ToString(), fetched.ToString());
        var list = await _account.Test.GetJsonAsync("/v1/webhooks");
        Assert.Equal("collection", list.GetProperty("entity").GetString());
        Assert.Equal(1, list.GetProperty("count").GetInt32());
        Assert.Equal(created.ToString(), list.GetProperty("items")[0].ToString());
    }

    [Fact]
    public async Task Patch_changes_only_the_fields_it_names()
    {
        var body = JsonSerializer.Serialize(new { url = Url("/a"), events = new[] { "payment.captured" }, alert_email = "alerts@acme.test", secret = "first-secret-123" });
        var created = await ApiAssert.JsonAsync(await _account.Test.PostJsonAsync("/v1/webhooks", body), HttpStatusCode.Created);
        var id = created.GetProperty("id").GetString()!;

        var moved = await ApiAssert.JsonAsync(await _account.Test.PatchJsonAsync($"/v1/webhooks/{id}", $$"""{"url":"{{Url("/b")}}"}"""), HttpStatusCode.OK);
        Assert.Equal(Url("/b"), moved.GetProperty("url").GetString());
        Assert.Equal(["payment.captured"], moved.GetProperty("events").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("alerts@acme.test", moved.GetProperty("alert_email").GetString());
        Assert.True(moved.GetProperty("active").GetBoolean());
        Assert.True(moved.GetProperty("secret_exists").GetBoolean());
        Assert.Equal(created.GetProperty("created_at").GetInt64(), moved.GetProperty("created_at").GetInt64());
        Assert.False(moved.TryGetProperty("secret", out _));

        var resubscribed = await ApiAssert.JsonAsync(await _account.Test.PatchJsonAsync($"/v1/webhooks/{id}", """{"events":["*"],"alert_email":null}"""), HttpStatusCode.OK);
        Assert.Equal(["*"], resubscribed.GetProperty("events").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(JsonValueKind.Null, resubscribed.GetProperty("alert_email").ValueKind);
        Assert.Equal(Url("/b"), resubscribed.GetProperty("url").GetString());

        var disabled = await ApiAssert.JsonAsync(await _account.Test.PatchJsonAsync($"/v1/webhooks/{id}", """{"active":false}"""), HttpStatusCode.OK);
        Assert.False(disabled.GetProperty("active").GetBoolean());
        Assert.Equal(Url("/b"), disabled.GetProperty("url").GetString());
        Assert.True(disabled.GetProperty("secret_exists").GetBoolean());

        var enabled = await ApiAssert.JsonAsync(await _account.Test.PatchJsonAsync($"/v1/webhooks/{id}", """{"active":true}"""), HttpStatusCode.OK);
        Assert.True(enabled.GetProperty("active").GetBoolean());
        Assert.Equal(JsonValueKind.Null, enabled.GetProperty("disabled_at").ValueKind);

        var unsigned = await ApiAssert.JsonAsync(await _account.Test.PatchJsonAsync($"/v1/webhooks/{id}", """{"secret":null}"""), HttpStatusCode.OK);
        Assert.False(unsigned.GetProperty("secret_exists").GetBoolean());

        Assert.Equal(unsigned.ToString(), (await _account.Test.GetJsonAsync($"/v1/webhooks/{id}")).ToString());
    }

    [Fact]
    public async Task Generated_secret_is_shown_in_the_creating_response_only()
    {
        var created = await _account.CreateWebhookAsync(Url(), secret: "generate");
        var id = created.GetProperty("id").GetString()!;
        var secret = created.GetProperty("secret").GetString()!;

        Assert.StartsWith("whsec_", secret);
        Assert.Equal(32, Convert.FromBase64String(secret["whsec_".Length..]).Length);
        Assert.True(created.GetProperty("secret_exists").GetBoolean());
        var fetched = await _account.Test.GetJsonAsync($"/v1/webhooks/{id}");
        var listed = (await _account.Test.GetJsonAsync("/v1/webhooks")).GetProperty("items")[0];
        var patched = await ApiAssert.JsonAsync(await _account.Test.PatchJsonAsync($"/v1/webhooks/{id}", """{"events":["payment.failed"]}"""), HttpStatusCode.OK);
        foreach (var view in new[] { fetched, listed, patched })
        {
            Assert.False(view.TryGetProperty("secret", out _), view.ToString());
            Assert.True(view.GetProperty("secret_exists").GetBoolean());
            Assert.DoesNotContain(secret["whsec_".Length..], view.ToString(), StringComparison.Ordinal);
        }

        var second = await _account.CreateWebhookAsync(Url("/2"), secret: "generate");
        Assert.NotEqual(secret, second.GetProperty("secret").GetString());
    }

    [Fact]
    public async Task Rotation_to_a_generated_secret_shows_the_new_secret_once()
    {
        var id = (await _account.CreateWebhookAsync(Url(), secret: "first-secret-123")).GetProperty("id").GetString()!;

        var rotated = await ApiAssert.JsonAsync(await _account.Test.PatchJsonAsync($"/v1/webhooks/{id}", """{"secret":"generate"}"""), HttpStatusCode.OK);

        var secret = rotated.GetProperty("secret").GetString()!;
        Assert.StartsWith("whsec_", secret);
        var fetched = await (await _account.Test.GetAsync($"/v1/webhooks/{id}")).Content.ReadAsStringAsync();
        Assert.DoesNotContain(secret, fetched, StringComparison.Ordinal);
        Assert.Contains("\"secret_exists\":true", fetched, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Given_secret_is_never_echoed()
    {
        const string secret = "my-own-webhook-secret-42";

        var response = await _account.Test.PostJsonAsync("/v1/webhooks", JsonSerializer.Serialize(new { url = Url(), events = new[] { "payment.captured" }, secret }));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        using var created = JsonDocument.Parse(text);
        Assert.False(created.RootElement.TryGetProperty("secret", out _));
        Assert.True(created.RootElement.GetProperty("secret_exists").GetBoolean());
        var id = created.RootElement.GetProperty("id").GetString()!;
        var patched = await _account.Test.PatchJsonAsync($"/v1/webhooks/{id}", """{"secret":"another-secret-43"}""");
        Assert.DoesNotContain("another-secret-43", await patched.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(secret, await (await _account.Test.GetAsync("/v1/webhooks")).Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not a url")]
    [InlineData("/relative/path")]
    [InlineData("127.0.0.1/hooks")]
    [InlineData("//127.0.0.1/hooks")]
    [InlineData("ftp://127.0.0.1/hooks")]
    [InlineData("file:///etc/passwd")]
    [InlineData("javascript:alert(1)")]
    [InlineData("http://user:pass@127.0.0.1/hooks")]
    [InlineData("http://user@127.0.0.1/hooks")]
    [InlineData("http://127.0.0.1/hooks\r\nX: y")]
    [InlineData("")]
    public async Task Invalid_url_is_refused_naming_url(string url)
    {
        var response = await _account.Test.PostJsonAsync("/v1/webhooks", JsonSerializer.Serialize(new { url, events = new[] { "payment.captured" } }));

        await ApiAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "url");
        Assert.Equal(0, (await _account.Test.GetJsonAsync("/v1/webhooks")).GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Url_longer_than_255_characters_is_refused()
    {
        var url = Url("/" + new string('a', 300));

        var response = await _account.Test.PostJsonAsync("/v1/webhooks", JsonSerializer.Serialize(new { url, events = new[] { "payment.captured" } }));

        await ApiAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "url");
    }

    [Fact]
    public async Task Invalid_url_in_a_patch_is_refused_and_the_old_url_stays()
    {
        var id = (await _account.CreateWebhookAsync(Url())).GetProperty("id").GetString()!;

        await ApiAssert.ErrorAsync(await _account.Test.PatchJsonAsync($"/v1/webhooks/{id}", """{"url":"ftp://127.0.0.1/x","active":false}"""), HttpStatusCode.BadRequest, "url");

        var webhook = await _account.Test.GetJsonAsync($"/v1/webhooks/{id}");
        Assert.Equal(Url(), webhook.GetProperty("url").GetString());
        Assert.True(webhook.GetProperty("active").GetBoolean());
    }

    [Fact]
    public async Task Unknown_event_names_are_listed_in_Razorpays_message()
    {
        var response = await _account.Test.PostJsonAsync("/v1/webhooks", JsonSerializer.Serialize(new { url = Url(), events = new[] { "payment.captured", "a", "b" } }));

        await ApiAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "events", "Invalid event name/names: a, b");
    }

    [Fact]
    public async Task Payouts_event_on_a_payments_webhook_is_refused_and_on_a_payouts_webhook_accepted()
    {
        var wrong = await _account.Test.PostJsonAsync("/v1/webhooks", JsonSerializer.Serialize(new { url = Url(), events = new[] { "payout.processed" } }));
        await ApiAssert.ErrorAsync(wrong, HttpStatusCode.BadRequest, "events", "Invalid event name/names: payout.processed");
        var reverse = await _account.Test.PostJsonAsync("/v1/webhooks", JsonSerializer.Serialize(new { url = Url(), events = new[] { "payment.captured" }, product = "payouts" }));
        await ApiAssert.ErrorAsync(reverse, HttpStatusCode.BadRequest, "events", "Invalid event name/names: payment.captured");

        var payouts = await _account.CreateWebhookAsync(Url("/payouts"), events: new[] { "payout.processed" }, product: "payouts");

        Assert.Equal("payouts", payouts.GetProperty("product").GetString());
        var id = payouts.GetProperty("id").GetString()!;
        await ApiAssert.ErrorAsync(await _account.Test.PatchJsonAsync($"/v1/webhooks/{id}", """{"events":["payment.captured"]}"""), HttpStatusCode.BadRequest, "events");
        await ApiAssert.ErrorAsync(await _account.Test.PatchJsonAsync($"/v1/webhooks/{id}", """{"product":"payments"}"""), HttpStatusCode.BadRequest, "product");
    }

    public static TheoryData<string, string> WrongWebhookBodies => new()
    {
        { """{"url":"URL","events":["*","payment.captured"]}""", "events" },
        { """{"url":"URL","events":[]}""", "events" },
        { """{"url":"URL","events":"payment.captured"}""", "events" },
        { """{"url":"URL","events":[1]}""", "events" },
        { """{"url":"URL"}""", "events" },
        { """{"events":["payment.captured"]}""", "url" },
        { """{"url":42,"events":["payment.captured"]}""", "url" },
        { """{"url":"URL","events":["payment.captured"],"alert_email":"not-an-email"}""", "alert_email" },
        { """{"url":"URL","events":["payment.captured"],"alert_email":"a@b"}""", "alert_email" },
        { """{"url":"URL","events":["payment.captured"],"alert_email":"a b@acme.test"}""", "alert_email" },
        { """{"url":"URL","events":["payment.captured"],"alert_email":"a@acme.test, b@acme.test"}""", "alert_email" },
        { """{"url":"URL","events":["payment.captured"],"product":"cards"}""", "product" },
        { """{"url":"URL","events":["payment.captured"],"active":"yes"}""", "active" },
        { """{"url":"URL","events":["payment.captured"],"secret":"short"}""", "secret" },
        { """{"url":"URL","events":["payment.captured"],"secret":12345678}""", "secret" },
        { """{"url":"URL","events":["payment.captured"],"id":"wh_00000000000000"}""", "id" },
        { """{"url":"URL","events":["payment.captured"],"secret_exists":true}""", "secret_exists" },
    };

    [Theory]
    [MemberData(nameof(WrongWebhookBodies))]
    public async Task Wrong_webhook_body_is_refused_naming_the_field_and_creates_nothing(string template, string field)
    {
        var response = await _account.Test.PostJsonAsync("/v1/webhooks", template.Replace("URL", Url(), StringComparison.Ordinal));

        await ApiAssert.ErrorAsync(response, HttpStatusCode.BadRequest, field);
        Assert.Equal(0, (await _account.Test.GetJsonAsync("/v1/webhooks")).GetProperty("count").GetInt32());
    }

    [Theory]
    [InlineData("")]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("{\"url\":")]
    [InlineData("{\"url\":\"u\",\"url\":\"v\",\"events\":[\"*\"]}")]
    public async Task Unparseable_webhook_body_is_refused(string body)
    {
        await ApiAssert.ErrorAsync(await _account.Test.PostJsonAsync("/v1/webhooks", body), HttpStatusCode.BadRequest, null);
    }

    [Fact]
    public async Task Webhook_body_over_64_KiB_is_refused_with_413()
    {
        var body = JsonSerializer.Serialize(new { url = Url(), events = Enumerable.Repeat("payment.captured", 5000) });

        await ApiAssert.ErrorAsync(await _account.Test.PostJsonAsync("/v1/webhooks", body), HttpStatusCode.RequestEntityTooLarge, null);
        Assert.Equal(0, (await _account.Test.GetJsonAsync("/v1/webhooks")).GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Deleted_webhook_is_404_afterwards_and_gets_no_deliveries()
    {
        var deleted = (await _account.CreateWebhookAsync(Url("/deleted"))).GetProperty("id").GetString()!;
        var kept = (await _account.CreateWebhookAsync(Url("/kept"))).GetProperty("id").GetString()!;

        var answer = await ApiAssert.JsonAsync(await _account.Test.DeleteAsync($"/v1/webhooks/{deleted}"), HttpStatusCode.OK);
        Assert.Equal(JsonValueKind.Object, answer.ValueKind);

        await ApiAssert.NotFoundAsync(await _account.Test.GetAsync($"/v1/webhooks/{deleted}"));
        await ApiAssert.NotFoundAsync(await _account.Test.PatchJsonAsync($"/v1/webhooks/{deleted}", """{"active":true}"""));
        await ApiAssert.NotFoundAsync(await _account.Test.DeleteAsync($"/v1/webhooks/{deleted}"));
        var list = await _account.Test.GetJsonAsync("/v1/webhooks");
        Assert.Equal([kept], list.GetProperty("items").EnumerateArray().Select(w => w.GetProperty("id").GetString()));

        var published = await _host.PublishAsync(_account.Id);
        Assert.Equal(1, published.GetProperty("deliveries").GetInt32());
        var evt = await _account.Test.GetJsonAsync($"/v1/events/{published.GetProperty("id").GetString()}");
        Assert.Equal([kept], evt.GetProperty("deliveries").EnumerateArray().Select(d => d.GetProperty("webhook_id").GetString()));
        await _account.Test.DeliveryWithStatusAsync(published.GetProperty("id").GetString()!, "succeeded");
        Assert.Equal(["/kept"], _receiver.Requests.Select(r => r.Path));
    }
}
