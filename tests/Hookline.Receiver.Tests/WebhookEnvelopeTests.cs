using System.Text;
using System.Text.Json;

namespace Hookline.Receiver.Tests;

public sealed class WebhookEnvelopeTests
{
    private const string Body =
        """{"entity":"event","account_id":"acc_BFQ7uQEaa7j2z7","event":"payment.captured","contains":["payment","order"],"payload":{"payment":{"entity":{"id":"pay_DESlfW9H8K9uqM","amount":100}},"order":{"entity":{"id":"order_DESlLckIVRkHWj"}}},"created_at":1700000000}""";

    [Fact]
    public void Razorpay_envelope_parses_into_its_fields()
    {
        var envelope = WebhookEnvelope.Parse(Encoding.UTF8.GetBytes(Body));

        Assert.Equal("event", envelope.Entity);
        Assert.Equal("acc_BFQ7uQEaa7j2z7", envelope.AccountId);
        Assert.Equal("payment.captured", envelope.Event);
        Assert.Equal(["payment", "order"], envelope.Contains);
        Assert.Equal(JsonValueKind.Object, envelope.Payload.ValueKind);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000), envelope.CreatedAt);
    }

    [Fact]
    public void Entity_snapshot_is_found_by_name()
    {
        var envelope = WebhookEnvelope.Parse(Encoding.UTF8.GetBytes(Body));

        Assert.True(envelope.TryGetEntity("payment", out var payment));
        Assert.Equal("pay_DESlfW9H8K9uqM", payment.GetProperty("id").GetString());
        Assert.Equal(100, payment.GetProperty("amount").GetInt64());
        Assert.False(envelope.TryGetEntity("refund", out _));
    }

    [Fact]
    public void Payload_outlives_the_buffer_it_was_parsed_from()
    {
        var buffer = Encoding.UTF8.GetBytes(Body);
        var envelope = WebhookEnvelope.Parse(buffer);
        Array.Clear(buffer);

        Assert.True(envelope.TryGetEntity("order", out var order));
        Assert.Equal("order_DESlLckIVRkHWj", order.GetProperty("id").GetString());
    }

    [Theory]
    [InlineData("entity")]
    [InlineData("account_id")]
    [InlineData("event")]
    [InlineData("contains")]
    [InlineData("payload")]
    [InlineData("created_at")]
    public void Envelope_without_a_field_is_rejected_naming_it(string field)
    {
        using var document = JsonDocument.Parse(Body);
        var without = new Dictionary<string, JsonElement>();
        foreach (var property in document.RootElement.EnumerateObject())
        {
            if (property.Name != field)
            {
                without[property.Name] = property.Value;
            }
        }

        var bytes = JsonSerializer.SerializeToUtf8Bytes(without);

        var error = Assert.Throws<FormatException>(() => WebhookEnvelope.Parse(bytes));
        Assert.Contains($"\"{field}\"", error.Message, StringComparison.Ordinal);
        Assert.False(WebhookEnvelope.TryParse(bytes, out _));
    }

    [Theory]
    [InlineData("""{"entity":"event","account_id":1,"event":"e","contains":[],"payload":{},"created_at":1}""")]
    [InlineData("""{"entity":"event","account_id":"a","event":"e","contains":[1],"payload":{},"created_at":1}""")]
    [InlineData("""{"entity":"event","account_id":"a","event":"e","contains":[],"payload":[],"created_at":1}""")]
    [InlineData("""{"entity":"event","account_id":"a","event":"e","contains":[],"payload":{},"created_at":1.5}""")]
    [InlineData("""{"entity":"event","account_id":"a","event":"e","contains":[],"payload":{},"created_at":"1700000000"}""")]
    [InlineData("""{"entity":"event","account_id":"a","event":"e","contains":[],"payload":{},"created_at":99999999999999999}""")]
    [InlineData("""[1,2]""")]
    [InlineData("""{"entity":"event",""")]
    [InlineData("""{"entity":"event","account_id":"a","event":"e","contains":[],"payload":{},"created_at":1} {}""")]
    [InlineData("")]
    public void Body_that_is_not_an_envelope_is_rejected(string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);

        Assert.Throws<FormatException>(() => WebhookEnvelope.Parse(bytes));
        Assert.False(WebhookEnvelope.TryParse(bytes, out var envelope));
        Assert.Null(envelope);
    }

    [Fact]
    public void Unknown_fields_and_trailing_whitespace_are_tolerated()
    {
        var body = Body[..^1] + ""","extra":{"x":1}}""" + "\n";

        Assert.True(WebhookEnvelope.TryParse(Encoding.UTF8.GetBytes(body), out var envelope));
        Assert.Equal("payment.captured", envelope.Event);
    }
}
