using System.Text;
using System.Text.Json;
using Hookline.Core.Events;

namespace Hookline.Core.Tests.Events;

public sealed class EnvelopeTests
{
    private static readonly DateTimeOffset At = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Renders_razorpays_envelope_in_its_key_order_with_the_payload_entities_listed()
    {
        using var payload = JsonDocument.Parse("""{ "payment": {"entity": {"id": "pay_1", "amount": 500}}, "order": {"entity": {"id": "order_1"}} }""");

        var body = Envelope.Render("acc_1", "order.paid", payload.RootElement, At);

        Assert.Equal(
            """{"entity":"event","account_id":"acc_1","event":"order.paid","contains":["payment","order"],"payload":{"payment":{"entity":{"id":"pay_1","amount":500}},"order":{"entity":{"id":"order_1"}}},"created_at":1772366400}""",
            Encoding.UTF8.GetString(body));
    }

    [Fact]
    public void Each_render_is_whole_and_its_own_whatever_was_rendered_before_on_the_thread()
    {
        // The buffer is reused per thread: a long envelope, one large enough to be dropped after use, then short ones
        // must each come out exactly as if rendered first.
        var renders = new[] { 3_000, 120_000, 10, 0, 500 }.Select(length =>
        {
            using var payload = JsonDocument.Parse("{\"payment\":{\"entity\":{\"id\":\"pay_1\",\"notes\":\"" + new string('n', length) + "\"}}}");
            return (Length: length, Body: Envelope.Render("acc_1", "payment.captured", payload.RootElement, At));
        }).ToList();

        foreach (var (length, body) in renders)
        {
            using var parsed = JsonDocument.Parse(body);
            Assert.Equal(new string('n', length), parsed.RootElement.GetProperty("payload").GetProperty("payment").GetProperty("entity").GetProperty("notes").GetString());
            Assert.Equal(1772366400, parsed.RootElement.GetProperty("created_at").GetInt64());
        }

        Assert.Equal(
            """{"entity":"event","account_id":"acc_1","event":"payment.captured","contains":["payment"],"payload":{"payment":{"entity":{"id":"pay_1","notes":"nnnnnnnnnn"}}},"created_at":1772366400}""",
            Encoding.UTF8.GetString(renders[2].Body));
    }
}
