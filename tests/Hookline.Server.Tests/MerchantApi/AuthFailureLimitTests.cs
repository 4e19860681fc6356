using System.Net;
using Hookline.Server.Tests.Api;
using Hookline.Server.Tests.Infrastructure;
using Hookline.Testing;

namespace Hookline.Server.Tests.MerchantApi;

/// <summary>
/// Repeated bad credentials from one client end in 429 for everything that client sends, good credentials
/// included, until the window passes (<c>Limits:AuthFailures</c> in <c>Limits:AuthFailureWindow</c>).
/// </summary>
public sealed class AuthFailureLimitTests
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly ManualTimeProvider _clock = new(Start);

    [Fact]
    public async Task Twenty_one_bad_merchant_credentials_lock_the_client_out_for_five_minutes_by_default()
    {
        await using var host = await HooklineHost.StartAsync(time: _clock);
        var account = await host.CreateAccountAsync();
        var keyId = await TestKeyIdAsync(host, account);
        using var guesser = host.WithBasic(keyId, "not-the-secret-000000000000");

        for (var i = 1; i <= 20; i++)
        {
            await ApiAssert.UnauthorizedAsync(await guesser.GetAsync("/v1/webhooks"));
            _clock.Advance(TimeSpan.FromSeconds(1));
        }

        // The window started with the first failure, 20 s ago.
        await AssertLockedOutAsync(await guesser.GetAsync("/v1/webhooks"), 280);
        await AssertLockedOutAsync(await account.Test.GetAsync("/v1/webhooks"), 280);
        await AssertLockedOutAsync(await host.Platform.GetAsync($"/v1/accounts/{account.Id}"), 280);

        _clock.Advance(TimeSpan.FromMinutes(4));
        await AssertLockedOutAsync(await account.Test.GetAsync("/v1/webhooks"), 40);

        _clock.Advance(TimeSpan.FromSeconds(40));
        Assert.Equal(HttpStatusCode.OK, (await account.Test.GetAsync("/v1/webhooks")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await host.Platform.GetAsync($"/v1/accounts/{account.Id}")).StatusCode);
        // A fresh window: one more failure is a plain 401.
        await ApiAssert.UnauthorizedAsync(await guesser.GetAsync("/v1/webhooks"));
    }

    [Fact]
    public async Task Bad_platform_tokens_lock_the_client_out_until_the_window_passes()
    {
        await using var host = await HooklineHost.StartAsync(
            new Dictionary<string, string?> { ["Limits:AuthFailures"] = "3", ["Limits:AuthFailureWindow"] = "00:01:00" }, time: _clock);
        var account = await host.CreateAccountAsync();
        using var guesser = host.WithAuthorization("Bearer", HooklineHost.PlatformToken + "x");

        for (var i = 0; i < 3; i++)
        {
            await ApiAssert.UnauthorizedAsync(await guesser.GetAsync($"/v1/accounts/{account.Id}"));
        }

        await AssertLockedOutAsync(await guesser.GetAsync($"/v1/accounts/{account.Id}"), 60);
        await AssertLockedOutAsync(await host.Platform.GetAsync($"/v1/accounts/{account.Id}"), 60);
        await AssertLockedOutAsync(await host.Platform.PostJsonAsync("/v1/events", ApiRequests.EventBody(account.Id)), 60);
        await AssertLockedOutAsync(await account.Test.GetAsync("/v1/webhooks"), 60);
        Assert.Equal(0, await host.CountEventsAsync(account.Id));

        _clock.Advance(TimeSpan.FromSeconds(59));
        await AssertLockedOutAsync(await host.Platform.GetAsync($"/v1/accounts/{account.Id}"), 1);
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await host.Platform.GetAsync($"/v1/accounts/{account.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await host.Platform.PostJsonAsync("/v1/events", ApiRequests.EventBody(account.Id))).StatusCode);
    }

    [Fact]
    public async Task Failures_spread_over_more_than_one_window_never_lock_out()
    {
        await using var host = await HooklineHost.StartAsync(
            new Dictionary<string, string?> { ["Limits:AuthFailures"] = "3", ["Limits:AuthFailureWindow"] = "00:01:00" }, time: _clock);
        using var guesser = host.WithBasic("hk_test_00000000000000", "not-the-secret-000000000000");

        for (var round = 0; round < 4; round++)
        {
            await ApiAssert.UnauthorizedAsync(await guesser.GetAsync("/v1/webhooks"));
            await ApiAssert.UnauthorizedAsync(await guesser.GetAsync("/v1/webhooks"));
            _clock.Advance(TimeSpan.FromSeconds(61));
        }

        // Eight failures in all, never three within one window: still answered, not refused.
        await ApiAssert.NotFoundAsync(await host.Platform.GetAsync("/v1/accounts/acc_00000000000000"));
        await ApiAssert.UnauthorizedAsync(await guesser.GetAsync("/v1/webhooks"));
    }

    private static async Task AssertLockedOutAsync(HttpResponseMessage response, int retryAfterSeconds)
    {
        await ApiAssert.ErrorAsync(response, HttpStatusCode.TooManyRequests);
        Assert.Equal(TimeSpan.FromSeconds(retryAfterSeconds), response.Headers.RetryAfter?.Delta);
    }

    private static async Task<string> TestKeyIdAsync(HooklineHost host, TestAccount account)
        => (await host.Platform.GetJsonAsync($"/v1/accounts/{account.Id}")).GetProperty("keys").EnumerateArray()
            .Single(k => k.GetProperty("mode").GetString() == "test").GetProperty("id").GetString()!;
}
