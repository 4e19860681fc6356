using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Hookline.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Hookline.Server.Tests.Deliveries;

public sealed class TlsTests
{
    [Fact]
    public async Task Receiver_with_an_untrusted_certificate_is_a_tls_failure_and_gets_no_request()
    {
        var requests = 0;
        using var certificate = SelfSigned("untrusted.example");
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate)));
        await using var receiver = builder.Build();
        receiver.Run(context => { Interlocked.Increment(ref requests); context.Response.StatusCode = 200; return Task.CompletedTask; });
        await receiver.StartAsync();
        var address = receiver.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Assert.StartsWith("https://", address);

        await using var host = await HooklineHost.StartAsync();
        var account = await host.CreateAccountAsync();
        await account.CreateWebhookAsync(address + "/hooks");
        var eventId = (await host.PublishAsync(account.Id)).GetProperty("id").GetString()!;
        var delivery = await account.Test.DeliveryAfterAttemptsAsync(eventId, 1);

        Assert.Equal("tls", delivery.GetProperty("attempts")[0].GetProperty("error").GetString());
        Assert.Equal("pending", delivery.GetProperty("status").GetString());
        Assert.Equal(0, Volatile.Read(ref requests));
    }

    private static X509Certificate2 SelfSigned(string name)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(name);
        request.CertificateExtensions.Add(names.Build());
        using var created = request.CreateSelfSigned(DateTimeOffset.Now.AddDays(-1), DateTimeOffset.Now.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), null);
    }
}
