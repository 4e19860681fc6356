using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Hookline.Core.Delivery;
using Hookline.Core.Destinations;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Hookline.Server.Tests.Infrastructure;

/// <summary>
/// A real Hookline server on 127.0.0.1 with its own SQLite data directory. Private networks are allowed so
/// receivers on loopback can be used; tests of the URL policy turn that off.
/// </summary>
internal sealed class HooklineHost : IAsyncDisposable
{
    public const string PlatformToken = "hlp_test_platform_token_0123456789";

    private HooklineHost(WebApplication app, string dataDirectory, HttpClient platform)
    {
        App = app;
        DataDirectory = dataDirectory;
        Platform = platform;
    }

    public WebApplication App { get; }

    public string DataDirectory { get; }

    public HttpClient Platform { get; }

    public Uri BaseAddress => Platform.BaseAddress!;

    public IServiceProvider Services => App.Services;

    public static async Task<HooklineHost> StartAsync(
        IDictionary<string, string?>? settings = null,
        TimeProvider? time = null,
        IJitterSource? jitter = null,
        IDnsResolver? dns = null,
        string? dataDirectory = null,
        Action<WebApplicationBuilder>? configure = null)
    {
        dataDirectory ??= Path.Combine(Path.GetTempPath(), "hookline-tests", Guid.NewGuid().ToString("N"));
        var all = new Dictionary<string, string?>
        {
            ["urls"] = "http://127.0.0.1:0",
            ["Storage:DataDirectory"] = dataDirectory,
            ["Platform:Token"] = PlatformToken,
            ["Delivery:AllowPrivateNetworks"] = "true",
            ["Delivery:PollInterval"] = "00:00:00.050",

            // Most tests publish minimal test-mode payloads; schema validation has its own tests (Sandbox/).
            ["Limits:ValidatePayloads"] = "false",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            // A null value removes one of the defaults above, so a test can run on the server's own default.
            if (value is null)
            {
                all.Remove(key);
            }
            else
            {
                all[key] = value;
            }
        }

        var app = HooklineServer.Build([.. all.Select(kv => $"--{kv.Key}={kv.Value}")], builder =>
        {
            if (time is not null)
            {
                builder.Services.Replace(ServiceDescriptor.Singleton(time));
            }

            if (jitter is not null)
            {
                builder.Services.Replace(ServiceDescriptor.Singleton(jitter));
            }

            if (dns is not null)
            {
                builder.Services.Replace(ServiceDescriptor.Singleton(dns));
            }

            configure?.Invoke(builder);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var platform = new HttpClient { BaseAddress = new Uri(address) };
        platform.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", PlatformToken);
        return new HooklineHost(app, dataDirectory, platform);
    }

    public T Get<T>() where T : notnull => App.Services.GetRequiredService<T>();

    /// <summary>
    /// A connection of the test's own to this host's SQLite file, outside the store: to look at stored rows without the
    /// API under test, or to get in the store's way (take the write lock, install a trigger).
    /// </summary>
    public async Task<SqliteConnection> OpenDatabaseAsync(SqliteOpenMode mode = SqliteOpenMode.ReadWrite)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(DataDirectory, "hookline.db"),
            Mode = mode,
            Pooling = false,
        }.ToString());
        await connection.OpenAsync();
        return connection;
    }

    public async Task<TestAccount> CreateAccountAsync(string name = "Acme", string email = "ops@acme.test")
    {
        var response = await Platform.PostAsJsonAsync("/v1/accounts", new { name, email });
        response.EnsureSuccessStatusCode();
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        var keys = json.GetProperty("keys").EnumerateArray().ToDictionary(k => k.GetProperty("mode").GetString()!, k => (k.GetProperty("id").GetString()!, k.GetProperty("secret").GetString()!));
        return new TestAccount(json.GetProperty("id").GetString()!, Merchant(keys["test"]), Merchant(keys["live"]));
    }

    public HttpClient Merchant((string Id, string Secret) key)
    {
        var client = new HttpClient { BaseAddress = BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{key.Id}:{key.Secret}")));
        return client;
    }

    /// <summary>Ingests one event and returns the API's answer.</summary>
    public async Task<JsonElement> PublishAsync(string accountId, string eventName = "payment.captured", string mode = "test", object? payload = null)
    {
        var response = await Platform.PostAsJsonAsync("/v1/events", new
        {
            account_id = accountId,
            mode,
            @event = eventName,
            payload = payload ?? new { payment = new { entity = new { id = "pay_" + Guid.NewGuid().ToString("N")[..14], entity = "payment", amount = 50000, currency = "INR", status = "captured" } } },
        });
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public async ValueTask DisposeAsync()
    {
        Platform.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

internal sealed record TestAccount(string Id, HttpClient Test, HttpClient Live)
{
    public async Task<JsonElement> CreateWebhookAsync(string url, object? events = null, string? secret = null, HttpClient? client = null, string? product = null)
    {
        var body = new Dictionary<string, object?> { ["url"] = url, ["events"] = events ?? new[] { "payment.captured" } };
        if (secret is not null)
        {
            body["secret"] = secret;
        }

        if (product is not null)
        {
            body["product"] = product;
        }

        var response = await (client ?? Test).PostAsJsonAsync("/v1/webhooks", body);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Created, json.ToString());
        return json;
    }
}
