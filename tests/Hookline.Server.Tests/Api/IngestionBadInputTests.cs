using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Hookline.Server.Tests.Infrastructure;

namespace Hookline.Server.Tests.Api;

/// <summary>Bad input to <c>POST /v1/events</c>: each gets a Razorpay-style error and stores nothing.</summary>
public sealed class IngestionBadInputTests : IAsyncLifetime
{
    private const int MaxRequestBytes = 4096;
    private HooklineHost _host = null!;
    private TestAccount _account = null!;

    public async Task InitializeAsync()
    {
        _host = await HooklineHost.StartAsync(new Dictionary<string, string?> { ["Limits:MaxRequestBytes"] = MaxRequestBytes.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        _account = await _host.CreateAccountAsync();
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    public static TheoryData<string, string, string?> WrongBodies => new()
    {
        // name, body (ACCOUNT is replaced by a real account id), expected field (null: the body as a whole)
        { "account_id of the wrong type", """{"account_id":123,"mode":"test","event":"payment.captured","payload":{}}""", "account_id" },
        { "account_id not an account id", """{"account_id":"wh_00000000000000","mode":"test","event":"payment.captured","payload":{}}""", "account_id" },
        { "mode of the wrong type", """{"account_id":"ACCOUNT","mode":true,"event":"payment.captured","payload":{}}""", "mode" },
        { "mode not test or live", """{"account_id":"ACCOUNT","mode":"prod","event":"payment.captured","payload":{}}""", "mode" },
        { "event of the wrong type", """{"account_id":"ACCOUNT","mode":"test","event":["payment.captured"],"payload":{}}""", "event" },
        { "payload a string", """{"account_id":"ACCOUNT","mode":"test","event":"payment.captured","payload":"x"}""", "payload" },
        { "payload an array", """{"account_id":"ACCOUNT","mode":"test","event":"payment.captured","payload":[]}""", "payload" },
        { "payload null", """{"account_id":"ACCOUNT","mode":"test","event":"payment.captured","payload":null}""", "payload" },
        { "unknown field", """{"account_id":"ACCOUNT","mode":"test","event":"payment.captured","payload":{},"created_at":1}""", "created_at" },
        { "missing account_id", """{"mode":"test","event":"payment.captured","payload":{}}""", "account_id" },
        { "missing mode", """{"account_id":"ACCOUNT","event":"payment.captured","payload":{}}""", "mode" },
        { "missing event", """{"account_id":"ACCOUNT","mode":"test","payload":{}}""", "event" },
        { "missing payload", """{"account_id":"ACCOUNT","mode":"test","event":"payment.captured"}""", "payload" },
        { "empty object", "{}", "account_id" },
        { "malformed JSON", """{"account_id":"ACCOUNT","mode":""", null },
        { "trailing garbage", """{"account_id":"ACCOUNT","mode":"test","event":"payment.captured","payload":{}} x""", null },
        { "comment", """{"account_id":"ACCOUNT","mode":"test","event":"payment.captured","payload":{}} /* c */""", null },
        { "JSON null", "null", null },
        { "JSON array", "[]", null },
        { "JSON string", "\"payment.captured\"", null },
        { "not JSON", "account_id=ACCOUNT&mode=test", null },
        { "whitespace only", "   ", null },
        { "duplicate top-level key", """{"account_id":"ACCOUNT","mode":"test","mode":"live","event":"payment.captured","payload":{}}""", null },
        { "duplicate key inside the payload", """{"account_id":"ACCOUNT","mode":"test","event":"payment.captured","payload":{"payment":{"entity":{"amount":1,"amount":2}}}}""", null },
        { "nesting deeper than 32", $$"""{"account_id":"ACCOUNT","mode":"test","event":"payment.captured","payload":{{new string('[', 40)}}{{new string(']', 40)}}}""", null },
    };

    [Theory]
    [MemberData(nameof(WrongBodies))]
    public async Task Wrong_body_is_refused_with_the_error_shape_and_stores_nothing(string name, string template, string? field)
    {
        var response = await _host.Platform.PostJsonAsync("/v1/events", template.Replace("ACCOUNT", _account.Id, StringComparison.Ordinal));

        var error = await ApiAssert.ErrorAsync(response, HttpStatusCode.BadRequest, field);
        Assert.DoesNotContain("Exception", error.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.True(await _host.CountEventsAsync(_account.Id) == 0, name);
    }

    [Fact]
    public async Task Empty_body_is_refused()
    {
        var response = await _host.Platform.PostAsync("/v1/events", new ByteArrayContent([]));

        await ApiAssert.ErrorAsync(response, HttpStatusCode.BadRequest, null);
        Assert.Equal(0, await _host.CountEventsAsync(_account.Id));
    }

    [Fact]
    public async Task Invalid_UTF8_is_refused()
    {
        var body = Encoding.UTF8.GetBytes(ApiRequests.EventBody(_account.Id, note: "XX"));
        var at = Array.IndexOf(body, (byte)'X');
        body[at] = 0xFF;
        body[at + 1] = 0xFE;

        var response = await _host.Platform.PostAsync("/v1/events", new ByteArrayContent(body) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } });

        await ApiAssert.ErrorAsync(response, HttpStatusCode.BadRequest, null);
        Assert.Equal(0, await _host.CountEventsAsync(_account.Id));
    }

    [Theory]
    [InlineData(30, HttpStatusCode.Created)]
    [InlineData(31, HttpStatusCode.BadRequest)]
    public async Task Nesting_is_accepted_up_to_depth_32(int arrays, HttpStatusCode expected)
    {
        // Root object (1) > payload (2) > arrays: 30 arrays make depth 32.
        var body = $$$"""{"account_id":"{{{_account.Id}}}","mode":"test","event":"payment.captured","payload":{"payment":{{{new string('[', arrays)}}}{{{new string(']', arrays)}}}}}""";

        var response = await _host.Platform.PostJsonAsync("/v1/events", body);

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal(expected == HttpStatusCode.Created ? 1 : 0, await _host.CountEventsAsync(_account.Id));
    }

    [Fact]
    public async Task Body_just_under_the_limit_is_accepted_and_one_just_over_is_refused_with_413()
    {
        var under = Padded(MaxRequestBytes);
        var over = Padded(MaxRequestBytes + 1);
        Assert.Equal(MaxRequestBytes, Encoding.UTF8.GetByteCount(under));

        var refused = await _host.Platform.PostJsonAsync("/v1/events", over);
        await ApiAssert.ErrorAsync(refused, HttpStatusCode.RequestEntityTooLarge, null);
        Assert.Equal(0, await _host.CountEventsAsync(_account.Id));

        var accepted = await _host.Platform.PostJsonAsync("/v1/events", under);
        await ApiAssert.JsonAsync(accepted, HttpStatusCode.Created);
        Assert.Equal(1, await _host.CountEventsAsync(_account.Id));
    }

    [Fact]
    public async Task Chunked_body_without_a_length_over_the_limit_is_refused_with_413()
    {
        var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(Padded(MaxRequestBytes * 4))));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/events") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        var response = await _host.Platform.SendAsync(request);

        await ApiAssert.ErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, null);
        Assert.Equal(0, await _host.CountEventsAsync(_account.Id));
    }

    [Fact]
    public async Task Chunked_body_without_a_length_under_the_limit_is_accepted_whole()
    {
        // Sent in 256-byte pieces, so the server gathers the body across reads.
        var events = string.Join(",", Enumerable.Range(0, 3).Select(i => ApiRequests.EventBody(_account.Id, note: new string('x', 900) + i)));
        var json = $$"""{"events":[{{events}}]}""";
        Assert.True(Encoding.UTF8.GetByteCount(json) is > 2048 and < MaxRequestBytes);
        var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(json)), bufferSize: 256);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/events/batch") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        var response = await _host.Platform.SendAsync(request);

        await ApiAssert.JsonAsync(response, HttpStatusCode.Created);
        Assert.Equal(3, await _host.CountEventsAsync(_account.Id));
    }

    [Fact]
    public async Task Batch_over_the_limit_is_refused_with_413()
    {
        var events = string.Join(",", Enumerable.Range(0, 40).Select(i => ApiRequests.EventBody(_account.Id, note: $"n{i}")));

        var response = await _host.Platform.PostJsonAsync("/v1/events/batch", $$"""{"events":[{{events}}]}""");

        await ApiAssert.ErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, null);
        Assert.Equal(0, await _host.CountEventsAsync(_account.Id));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer")]
    [InlineData("Bearer hlp_test_platform_token_012345678")]
    [InlineData("Bearer hlp_test_platform_token_0123456789x")]
    [InlineData("Basic aGxwX3Rlc3RfcGxhdGZvcm1fdG9rZW5fMDEyMzQ1Njc4OTo=")]
    [InlineData("hlp_test_platform_token_0123456789")]
    public async Task Ingestion_without_the_platform_token_is_refused_with_401(string? authorization)
    {
        using var client = _host.Anonymous();
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/events") { Content = ApiRequests.Json(ApiRequests.EventBody(_account.Id)) };
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        await ApiAssert.UnauthorizedAsync(await client.SendAsync(request));
        var batch = new HttpRequestMessage(HttpMethod.Post, "/v1/events/batch") { Content = ApiRequests.Json($$"""{"events":[{{ApiRequests.EventBody(_account.Id)}}]}""") };
        if (authorization is not null)
        {
            batch.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        await ApiAssert.UnauthorizedAsync(await client.SendAsync(batch));
        Assert.Equal(0, await _host.CountEventsAsync(_account.Id));
    }

    /// <summary>A valid event whose serialized body is exactly <paramref name="bytes"/> long.</summary>
    private string Padded(int bytes)
    {
        var empty = ApiRequests.EventBody(_account.Id, note: "");
        return ApiRequests.EventBody(_account.Id, note: new string('x', bytes - Encoding.UTF8.GetByteCount(empty)));
    }
}
