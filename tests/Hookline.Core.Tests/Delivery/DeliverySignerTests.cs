using System.Security.Cryptography;
using System.Text;
using Hookline.Core.Delivery;
using Hookline.Receiver;

namespace Hookline.Core.Tests.Delivery;

/// <summary>
/// The sender's signer keeps keyed HMAC contexts between deliveries; what it signs must stay byte for byte what the
/// receiver library computes and verifies, however often and from however many threads it is used.
/// </summary>
public sealed class DeliverySignerTests
{
    public static TheoryData<string> Secrets => new()
    {
        "a-plain-secret",
        "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
        "whsec_not base64!",
        "ünïcödé secret",
        new string('k', 200),
    };

    [Theory]
    [MemberData(nameof(Secrets))]
    public void Signs_as_the_receiver_library_does_delivery_after_delivery(string secret)
    {
        var signer = new DeliverySigner(secret);
        for (var i = 0; i < 50; i++)
        {
            var body = RandomNumberGenerator.GetBytes(i * 37);
            var id = $"evt_{i:D14}";
            var timestamp = 1_765_000_000L + i;

            var razorpay = signer.RazorpaySignature(body);
            var standard = signer.StandardSignature(id, timestamp, body);

            Assert.Equal(WebhookSignature.Compute(body, secret), razorpay);
            Assert.True(WebhookSignature.Verify(body, razorpay, secret));
            Assert.Equal(StandardWebhooks.Sign(id, timestamp, body, secret), standard);
        }
    }

    [Fact]
    public void A_reset_context_carries_nothing_from_the_delivery_before()
    {
        var signer = new DeliverySigner("whsec_" + Convert.ToBase64String(Encoding.UTF8.GetBytes("the key")));
        var body = Encoding.UTF8.GetBytes("""{"entity":"event"}""");
        var first = signer.RazorpaySignature(body);
        signer.RazorpaySignature(RandomNumberGenerator.GetBytes(5000));
        Assert.Equal(first, signer.RazorpaySignature(body));
        Assert.NotEqual(first, new DeliverySigner("another").RazorpaySignature(body));
    }

    [Fact]
    public async Task Many_threads_signing_at_once_each_get_their_own_body_signed()
    {
        const string Secret = "shared-secret";
        var signer = new DeliverySigner(Secret);
        var bodies = Enumerable.Range(0, 64).Select(i => RandomNumberGenerator.GetBytes(200 + i)).ToArray();
        var expected = bodies.Select(b => (WebhookSignature.Compute(b, Secret), StandardWebhooks.Sign("evt_1", 7, b, Secret))).ToArray();

        var mismatches = 0;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(t => Task.Run(() =>
        {
            for (var n = 0; n < 2_000; n++)
            {
                var i = (n * 7 + t) % bodies.Length;
                if (signer.RazorpaySignature(bodies[i]) != expected[i].Item1 || signer.StandardSignature("evt_1", 7, bodies[i]) != expected[i].Item2)
                {
                    Interlocked.Increment(ref mismatches);
                }
            }
        })));

        Assert.Equal(0, mismatches);
    }

    [Fact]
    public void An_empty_secret_or_message_id_is_refused()
    {
        Assert.ThrowsAny<ArgumentException>(() => new DeliverySigner(""));
        Assert.ThrowsAny<ArgumentException>(() => new DeliverySigner("s").StandardSignature("", 1, []));
    }
}
