using System.Text.Json;
using System.Text.Json.Nodes;
using Hookline.Core.Events;
using Hookline.Tests.Catalog;

namespace Hookline.Core.Tests.Events;

public sealed class EventCatalogTests
{
    [Fact]
    public void Catalogue_lists_every_reference_event_with_product_contents_and_description()
    {
        var all = EventCatalog.Default.All.ToList();
        Assert.Equal(121, all.Count);
        Assert.All(all, t =>
        {
            Assert.True(Products.IsValid(t.Product), $"{t.Name}: product {t.Product}");
            Assert.False(string.IsNullOrWhiteSpace(t.Group), t.Name);
            Assert.True(t.Description.Length is > 20 and < 140, $"{t.Name}: description");
        });
        Assert.Equal(["account.app.authorization_revoked"], all.Where(t => t.Contains.Count == 0).Select(t => t.Name));
        Assert.Equal(21, all.Count(t => t.Product == Products.Payouts));
    }

    [Fact]
    public void Existing_lookups_still_work()
    {
        var type = EventCatalog.Default.Find("payment.captured");
        Assert.NotNull(type);
        var (name, product, group) = type;
        Assert.Equal(("payment.captured", "payments", "payments"), (name, product, group));
        Assert.Equal(["payment"], type.Contains);
        Assert.Null(EventCatalog.Default.Find("payment.exploded"));
    }

    [Theory]
    [InlineData("payment.authorized", "payment", "authorized")]
    [InlineData("order.paid", "order", "paid")]
    [InlineData("refund.failed", "refund", "failed")]
    [InlineData("payout.initiated", "payout", "processing")]
    public void Event_schemas_pin_the_status_the_event_implies(string name, string entity, string status)
    {
        var type = EventCatalog.Default.Find(name)!;
        var payload = JsonNode.Parse(type.Sample.GetRawText())!;
        payload[entity]!["entity"]!["status"] = status + "_not";
        var violation = type.Validate(JsonSerializer.SerializeToElement(payload));
        Assert.Equal($"payload.{entity}.entity.status", violation?.Path);
    }

    [Fact]
    public void Schemas_refuse_fields_Razorpay_entities_do_not_have()
    {
        var type = EventCatalog.Default.Find("payment.captured")!;
        var payload = JsonNode.Parse(type.Sample.GetRawText())!;
        payload["payment"]!["entity"]!["loyalty_points"] = 12;
        Assert.Equal("payload.payment.entity.loyalty_points", type.Validate(JsonSerializer.SerializeToElement(payload))?.Path);
    }

    [Fact]
    public void Bundled_schema_is_self_contained()
    {
        foreach (var type in EventCatalog.Default.All)
        {
            var bundled = EventCatalog.Default.BundledSchema(type).ToJsonString();
            Assert.DoesNotContain("$ref", bundled, StringComparison.Ordinal);
            Assert.Contains(type.Name, bundled, StringComparison.Ordinal);
        }

        var refund = EventCatalog.Default.BundledSchema(EventCatalog.Default.Find("refund.processed")!);
        Assert.Equal("^rfnd_[0-9A-Za-z]+$", refund["properties"]!["refund"]!["properties"]!["entity"]!["allOf"]![0]!["properties"]!["id"]!["pattern"]!.GetValue<string>());
    }

    [Fact]
    public void Entity_oracle_catches_unknown_fields_wrong_types_and_missing_required_ones()
    {
        var payload = JsonDocument.Parse("""{"refund":{"entity":{"id":"rfnd_1","entity":"refund","amount":"100","sparkle":true}}}""").RootElement;
        var problems = RazorpayEntities.Load().Check(payload);
        Assert.Contains("payload.refund.entity.sparkle: Razorpay's refund has no such field", problems);
        Assert.Contains("payload.refund.entity.amount: is string, Razorpay's is integer", problems);
        Assert.Contains("payload.refund.entity.payment_id: missing; every Razorpay refund has it", problems);
    }
}
