using System.Net;
using System.Text.Json;
using Hookline.Server.Tests.Infrastructure;

namespace Hookline.Server.Tests.Api;

/// <summary>Webhooks per account, mode and product are limited (payments configurable, payouts 1 by default).</summary>
public sealed class WebhookLimitsTests : IAsyncLifetime
{
    private HooklineHost _host = null!;
    private TestReceiver _receiver = null!;
    private TestAccount _account = null!;

    public async Task InitializeAsync()
    {
        _host = await HooklineHost.StartAsync(new Dictionary<string, string?> { ["Limits:PaymentsWebhooks"] = "2" });
        _receiver = await TestReceiver.StartAsync();
        _account = await _host.CreateAccountAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    private string Url(string path) => new Uri(_receiver.Url, path).ToString();

    private Task<HttpResponseMessage> CreateAsync(HttpClient client, string path, string product = "payments")
        => client.PostJsonAsync("/v1/webhooks", JsonSerializer.Serialize(new
        {
            url = Url(path),
            events = new[] { product == "payouts" ? "payout.processed" : "payment.captured" },
            product,
        }));

    [Fact]
    public async Task Payments_webhook_over_the_limit_is_refused_naming_the_limit_while_payouts_still_works()
    {
        await ApiAssert.JsonAsync(await CreateAsync(_account.Test, "/1"), HttpStatusCode.Created);
        await ApiAssert.JsonAsync(await CreateAsync(_account.Test, "/2"), HttpStatusCode.Created);

        var third = await CreateAsync(_account.Test, "/3");

        var error = await ApiAssert.ErrorAsync(third, HttpStatusCode.BadRequest);
        Assert.Contains("2 payments webhooks", error.GetProperty("description").GetString(), StringComparison.Ordinal);
        await ApiAssert.JsonAsync(await CreateAsync(_account.Test, "/payouts", "payouts"), HttpStatusCode.Created);
        Assert.Equal(3, (await _account.Test.GetJsonAsync("/v1/webhooks")).GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Second_payouts_webhook_is_refused_by_the_default_limit_of_one()
    {
        await ApiAssert.JsonAsync(await CreateAsync(_account.Test, "/p1", "payouts"), HttpStatusCode.Created);

        var second = await CreateAsync(_account.Test, "/p2", "payouts");

        var error = await ApiAssert.ErrorAsync(second, HttpStatusCode.BadRequest);
        Assert.Contains("1 payouts webhook", error.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, (await _account.Test.GetJsonAsync("/v1/webhooks")).GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Limit_counts_per_mode_and_per_account()
    {
        await ApiAssert.JsonAsync(await CreateAsync(_account.Test, "/1"), HttpStatusCode.Created);
        await ApiAssert.JsonAsync(await CreateAsync(_account.Test, "/2"), HttpStatusCode.Created);
        var other = await _host.CreateAccountAsync("Globex", "ops@globex.test");

        await ApiAssert.JsonAsync(await CreateAsync(_account.Live, "/live-1"), HttpStatusCode.Created);
        await ApiAssert.JsonAsync(await CreateAsync(_account.Live, "/live-2"), HttpStatusCode.Created);
        await ApiAssert.JsonAsync(await CreateAsync(other.Test, "/other-1"), HttpStatusCode.Created);
        await ApiAssert.ErrorAsync(await CreateAsync(_account.Live, "/live-3"), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Parallel_creates_never_exceed_the_limit()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sending = Enumerable.Range(0, 8).Select(async i =>
        {
            await gate.Task;
            return await CreateAsync(_account.Test, $"/parallel-{i}");
        }).ToList();

        gate.SetResult();
        var responses = await Task.WhenAll(sending);

        Assert.Equal(2, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.Equal(6, responses.Count(r => r.StatusCode == HttpStatusCode.BadRequest));
        Assert.Equal(2, (await _account.Test.GetJsonAsync("/v1/webhooks")).GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Deleting_a_webhook_frees_its_place()
    {
        var first = (await ApiAssert.JsonAsync(await CreateAsync(_account.Test, "/1"), HttpStatusCode.Created)).GetProperty("id").GetString();
        await ApiAssert.JsonAsync(await CreateAsync(_account.Test, "/2"), HttpStatusCode.Created);
        await ApiAssert.ErrorAsync(await CreateAsync(_account.Test, "/3"), HttpStatusCode.BadRequest);

        await ApiAssert.JsonAsync(await _account.Test.DeleteAsync($"/v1/webhooks/{first}"), HttpStatusCode.OK);

        await ApiAssert.JsonAsync(await CreateAsync(_account.Test, "/3"), HttpStatusCode.Created);
    }
}
