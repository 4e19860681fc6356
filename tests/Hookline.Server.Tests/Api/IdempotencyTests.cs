using System.Net;
using System.Net.Sockets;
using System.Text;
using Hookline.Server.Tests.Infrastructure;

namespace Hookline.Server.Tests.Api;

/// <summary>The <c>Idempotency-Key</c> header of ingestion: one key, one event.</summary>
public sealed class IdempotencyTests : IAsyncLifetime
{
    private HooklineHost _host = null!;
    private TestAccount _account = null!;

    public async Task InitializeAsync()
    {
        _host = await HooklineHost.StartAsync();
        _account = await _host.CreateAccountAsync();
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Same_key_and_body_answers_the_first_event_again_marked_as_replayed()
    {
        var body = ApiRequests.EventBody(_account.Id);

        var first = await _host.Platform.PostJsonAsync("/v1/events", body, "order-42-captured");
        var again = await _host.Platform.PostJsonAsync("/v1/events", body, "order-42-captured");

        var original = await ApiAssert.JsonAsync(first, HttpStatusCode.Created);
        var replayed = await ApiAssert.JsonAsync(again, HttpStatusCode.Created);
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal("true", Assert.Single(again.Headers.GetValues("Idempotent-Replayed")));
        Assert.Equal(original.GetProperty("id").GetString(), replayed.GetProperty("id").GetString());
        Assert.Equal(original.GetProperty("created_at").GetInt64(), replayed.GetProperty("created_at").GetInt64());
        Assert.Equal(original.GetProperty("deliveries").GetInt32(), replayed.GetProperty("deliveries").GetInt32());
        Assert.Equal(1, await _host.CountEventsAsync(_account.Id));
    }

    [Fact]
    public async Task Same_key_with_another_body_is_a_409_conflict_and_stores_nothing_more()
    {
        await ApiAssert.JsonAsync(await _host.Platform.PostJsonAsync("/v1/events", ApiRequests.EventBody(_account.Id, note: "a"), "key-1"), HttpStatusCode.Created);

        var conflict = await _host.Platform.PostJsonAsync("/v1/events", ApiRequests.EventBody(_account.Id, note: "b"), "key-1");

        await ApiAssert.ErrorAsync(conflict, HttpStatusCode.Conflict, "Idempotency-Key");
        Assert.False(conflict.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(1, await _host.CountEventsAsync(_account.Id));
    }

    [Fact]
    public async Task Same_key_and_body_on_the_batch_route_is_a_conflict_not_a_replay()
    {
        var body = ApiRequests.EventBody(_account.Id);
        await ApiAssert.JsonAsync(await _host.Platform.PostJsonAsync("/v1/events", body, "key-2"), HttpStatusCode.Created);

        var batch = await _host.Platform.PostJsonAsync("/v1/events/batch", $$"""{"events":[{{body}}]}""", "key-2");

        await ApiAssert.ErrorAsync(batch, HttpStatusCode.Conflict, "Idempotency-Key");
        Assert.Equal(1, await _host.CountEventsAsync(_account.Id));
    }

    [Fact]
    public async Task Batch_replay_answers_the_same_event_ids_in_order()
    {
        var body = $$"""{"events":[{{ApiRequests.EventBody(_account.Id, note: "a")}},{{ApiRequests.EventBody(_account.Id, note: "b")}}]}""";

        var first = await ApiAssert.JsonAsync(await _host.Platform.PostJsonAsync("/v1/events/batch", body, "batch-1"), HttpStatusCode.Created);
        var again = await _host.Platform.PostJsonAsync("/v1/events/batch", body, "batch-1");

        var replayed = await ApiAssert.JsonAsync(again, HttpStatusCode.Created);
        Assert.Equal("true", Assert.Single(again.Headers.GetValues("Idempotent-Replayed")));
        Assert.Equal(Ids(first), Ids(replayed));
        Assert.Equal(2, await _host.CountEventsAsync(_account.Id));
    }

    [Fact]
    public async Task Refused_request_does_not_use_up_its_key()
    {
        await ApiAssert.ErrorAsync(await _host.Platform.PostJsonAsync("/v1/events", ApiRequests.EventBody(_account.Id, "payment.teleported"), "key-3"), HttpStatusCode.BadRequest, "event");
        await ApiAssert.ErrorAsync(await _host.Platform.PostJsonAsync("/v1/events", ApiRequests.EventBody("acc_00000000000000"), "key-3"), HttpStatusCode.BadRequest, "account_id");

        var accepted = await _host.Platform.PostJsonAsync("/v1/events", ApiRequests.EventBody(_account.Id), "key-3");

        await ApiAssert.JsonAsync(accepted, HttpStatusCode.Created);
        Assert.False(accepted.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(1, await _host.CountEventsAsync(_account.Id));
    }

    [Fact]
    public async Task Eight_parallel_requests_with_one_key_create_exactly_one_event()
    {
        var body = ApiRequests.EventBody(_account.Id);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var clients = Enumerable.Range(0, 8).Select(_ => _host.WithAuthorization("Bearer", HooklineHost.PlatformToken)).ToList();
        var sending = clients.Select(async client =>
        {
            await gate.Task;
            return await client.PostJsonAsync("/v1/events", body, "parallel-key");
        }).ToList();

        gate.SetResult();
        var responses = await Task.WhenAll(sending);

        var ids = new List<string>();
        foreach (var response in responses)
        {
            ids.Add((await ApiAssert.JsonAsync(response, HttpStatusCode.Created)).GetProperty("id").GetString()!);
        }

        Assert.Single(ids.Distinct());
        Assert.Equal(7, responses.Count(r => r.Headers.Contains("Idempotent-Replayed")));
        Assert.Equal(1, await _host.CountEventsAsync(_account.Id));
        clients.ForEach(c => c.Dispose());
    }

    [Fact]
    public async Task Key_of_255_printable_characters_is_accepted()
    {
        var key = string.Concat(Enumerable.Repeat("Ab9-_.~!", 32))[..255];

        var response = await _host.Platform.PostJsonAsync("/v1/events", ApiRequests.EventBody(_account.Id), key);

        await ApiAssert.JsonAsync(response, HttpStatusCode.Created);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("tab\there")]
    [InlineData("256")]
    public async Task Bad_key_is_refused_naming_the_header_and_stores_nothing(string key)
    {
        key = key == "256" ? new string('k', 256) : key;

        var response = await _host.Platform.PostJsonAsync("/v1/events", ApiRequests.EventBody(_account.Id), key);

        await ApiAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "Idempotency-Key");
        Assert.Equal(0, await _host.CountEventsAsync(_account.Id));
    }

    [Fact]
    public async Task Two_key_headers_are_refused()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/events") { Content = ApiRequests.Json(ApiRequests.EventBody(_account.Id)) };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", ["one", "two"]);

        var response = await _host.Platform.SendAsync(request);

        await ApiAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "Idempotency-Key");
        Assert.Equal(0, await _host.CountEventsAsync(_account.Id));
    }

    /// <summary>
    /// HttpClient refuses to send CR or LF in a header, so these go over a raw socket. Kestrel rejects such
    /// requests while parsing, before Hookline sees them, so the answer is Kestrel's bare 400; what matters is
    /// that no event is stored under a key that means something else to a proxy.
    /// </summary>
    [Theory]
    [InlineData("ab\rcd")]
    [InlineData("ab\ncd")]
    [InlineData("ab\r\n cd")]
    [InlineData("ab\u0000cd")]
    public async Task Key_with_CR_LF_or_NUL_is_refused_with_400_and_stores_nothing(string key)
    {
        var body = ApiRequests.EventBody(_account.Id);
        var head = $"POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {HooklineHost.PlatformToken}\r\n"
            + $"Idempotency-Key: {key}\r\nContent-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\nConnection: close\r\n\r\n";
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(_host.BaseAddress.Host, _host.BaseAddress.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.UTF8.GetBytes(head + body));

        using var reader = new StreamReader(stream, Encoding.ASCII);
        var statusLine = await reader.ReadLineAsync();

        Assert.StartsWith("HTTP/1.1 400", statusLine);
        Assert.Equal(0, await _host.CountEventsAsync(_account.Id));
    }

    private static IEnumerable<string?> Ids(System.Text.Json.JsonElement collection)
        => collection.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()).ToList();
}
