using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Hookline.Cli.Tests.Infrastructure;
using Hookline.Server.Tests.Infrastructure;

namespace Hookline.Cli.Tests;

public sealed class NotificationCrashTests : IAsyncLifetime
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("hookline-notify-crash-").FullName;
    private MailDev _mail = null!;
    private TestReceiver _receiver = null!;

    public async Task InitializeAsync()
    {
        _mail = await MailDev.StartAsync();
        _receiver = await TestReceiver.StartAsync((_, context) => { context.Response.StatusCode = 500; return Task.CompletedTask; });
    }

    public async Task DisposeAsync()
    {
        await _mail.DisposeAsync();
        await _receiver.DisposeAsync();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    [Fact]
    public async Task Kill_9_after_the_notification_is_committed_and_before_it_is_sent_loses_nothing()
    {
        await _mail.StopAsync();
        var port = ServerProcess.FreePort();
        var settings = new Dictionary<string, string>
        {
            ["Smtp:Host"] = "127.0.0.1",
            ["Smtp:Port"] = _mail.SmtpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Smtp:RetryBaseDelay"] = "00:00:00.500",
            ["Smtp:PollInterval"] = "00:00:00.200",
            ["Delivery:RetryBaseDelay"] = "01:00:00",
            ["Delivery:RetryMaxDelay"] = "01:00:00",
        };

        string keyId, keySecret;
        await using (var server = await ServerProcess.StartAsync(_dataDirectory, port, settings))
        {
            using var platform = server.Platform();
            var account = await (await platform.PostAsJsonAsync("/v1/accounts", new { name = "Crash", email = "owner@crash.test" })).Content.ReadFromJsonAsync<JsonElement>();
            var key = account.GetProperty("keys").EnumerateArray().First(k => k.GetProperty("mode").GetString() == "test");
            (keyId, keySecret) = (key.GetProperty("id").GetString()!, key.GetProperty("secret").GetString()!);
            using var merchant = server.Merchant(keyId, keySecret);
            Assert.Equal(HttpStatusCode.Created, (await merchant.PostAsJsonAsync("/v1/webhooks", new { url = _receiver.Url.ToString(), events = new[] { "*" } })).StatusCode);
            Assert.Equal(HttpStatusCode.Created, (await platform.PostAsJsonAsync("/v1/events", new { account_id = account.GetProperty("id").GetString(), mode = "test", @event = "payment.captured", payload = new { payment = new { entity = new { id = "pay_1" } } } })).StatusCode);

            // The first-failure notice is committed, and its send has failed at least once (SMTP is down).
            await Eventually.UntilAsync(
                () => merchant.GetFromJsonAsync<JsonElement>("/v1/notifications"),
                n => n.GetProperty("count").GetInt32() == 1 && n.GetProperty("items")[0].GetProperty("attempts").GetInt32() >= 1,
                what: "notification committed and a send attempted");
            await server.KillAsync();
        }

        await _mail.RestartAsync();
        await using var restarted = await ServerProcess.StartAsync(_dataDirectory, port, settings);
        var mails = await _mail.WaitForMessagesAsync(1);
        Assert.Single(mails);
        Assert.Equal(["owner@crash.test"], mails[0].To);
        using var client = restarted.Merchant(keyId, keySecret);
        var sent = await Eventually.UntilAsync(
            () => client.GetFromJsonAsync<JsonElement>("/v1/notifications"),
            n => n.GetProperty("items")[0].GetProperty("status").GetString() == "sent",
            what: "notification recorded as sent");
        Assert.Equal(1, sent.GetProperty("count").GetInt32());
    }
}
