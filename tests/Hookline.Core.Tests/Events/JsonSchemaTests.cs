using System.Text.Json;
using Hookline.Core.Events.Schemas;

namespace Hookline.Core.Tests.Events;

public sealed class JsonSchemaTests
{
    private const string Entity = """
        {
          "type": "object",
          "required": ["id", "amount"],
          "additionalProperties": false,
          "properties": {
            "id": {"type": "string", "pattern": "^pay_[0-9A-Za-z]+$"},
            "amount": {"type": "integer", "minimum": 0},
            "status": {"type": "string", "enum": ["authorized", "captured"]},
            "notes": {"type": ["object", "array"]},
            "bank": {"type": ["string", "null"]},
            "tags": {"type": "array", "items": {"type": "string"}}
          }
        }
        """;

    private const string Event = """
        {
          "type": "object",
          "required": ["payment"],
          "additionalProperties": false,
          "properties": {
            "payment": {
              "type": "object",
              "required": ["entity"],
              "properties": {
                "entity": {"allOf": [{"$ref": "../entities/payment.json"}, {"properties": {"status": {"const": "captured"}}}]}
              }
            }
          }
        }
        """;

    private static readonly JsonSchema Schema = Compile();

    [Theory]
    [InlineData("""{"payment":{"entity":{"id":"pay_A1","amount":100,"status":"captured"}}}""")]
    [InlineData("""{"payment":{"entity":{"id":"pay_A1","amount":100.0,"bank":null,"notes":[],"tags":["a"]}}}""")]
    [InlineData("""{"payment":{"entity":{"id":"pay_A1","amount":0,"notes":{"k":"v"}}}}""")]
    public void Conforming_payloads_pass(string payload) => Assert.Null(Validate(payload));

    [Theory]
    [InlineData("""[]""", "payload", "must be an object")]
    [InlineData("""{}""", "payload.payment", "is required")]
    [InlineData("""{"payment":{"entity":{"id":"pay_A1","amount":"100"}}}""", "payload.payment.entity.amount", "must be an integer")]
    [InlineData("""{"payment":{"entity":{"id":"pay_A1","amount":1.5}}}""", "payload.payment.entity.amount", "must be an integer")]
    [InlineData("""{"payment":{"entity":{"id":"pay_A1","amount":-1}}}""", "payload.payment.entity.amount", "must be at least 0")]
    [InlineData("""{"payment":{"entity":{"id":"pay_A1"}}}""", "payload.payment.entity.amount", "is required")]
    [InlineData("""{"payment":{"entity":{"id":"order_A1","amount":1}}}""", "payload.payment.entity.id", "must match ^pay_[0-9A-Za-z]+$")]
    [InlineData("""{"payment":{"entity":{"id":"pay_A1","amount":1,"status":"refunded"}}}""", "payload.payment.entity.status", "must be one of \"authorized\", \"captured\"")]
    [InlineData("""{"payment":{"entity":{"id":"pay_A1","amount":1,"status":"authorized"}}}""", "payload.payment.entity.status", "must be \"captured\"")]
    [InlineData("""{"payment":{"entity":{"id":"pay_A1","amount":1,"colour":"red"}}}""", "payload.payment.entity.colour", "is not a field of this entity")]
    [InlineData("""{"payment":{"entity":{"id":"pay_A1","amount":1,"bank":7}}}""", "payload.payment.entity.bank", "must be null or a string")]
    [InlineData("""{"payment":{"entity":{"id":"pay_A1","amount":1,"tags":["a",2]}}}""", "payload.payment.entity.tags[1]", "must be a string")]
    [InlineData("""{"payment":{"entity":{"id":"pay_A1","amount":1}},"order":{}}""", "payload.order", "is not a field of this entity")]
    public void The_first_violation_names_its_path(string payload, string path, string problem)
    {
        var violation = Validate(payload);
        Assert.NotNull(violation);
        Assert.Equal(path, violation.Path);
        Assert.Equal(problem, violation.Problem);
    }

    [Fact]
    public void Violations_are_reported_in_document_order()
    {
        var violation = Validate("""{"payment":{"entity":{"id":1,"amount":"x"}}}""");
        Assert.Equal("payload.payment.entity.id", violation?.Path);
    }

    [Fact]
    public void AnyOf_passes_when_one_alternative_does()
    {
        var schema = JsonSchema.Compile(Parse("""{"anyOf":[{"required":["bank_transfer"]},{"required":["upi_transfer"]}]}"""), "x.json", _ => throw new InvalidOperationException());
        Assert.Null(schema.Validate(Parse("""{"upi_transfer":{}}"""), "payload"));
        Assert.Equal("payload.bank_transfer", schema.Validate(Parse("""{"other":{}}"""), "payload")?.Path);
    }

    [Theory]
    [InlineData("""{"type":"object","oneOf":[]}""")]
    [InlineData("""{"type":"object","maxLength":3}""")]
    [InlineData("""{"type":"decimal"}""")]
    public void Unsupported_keywords_are_refused_when_compiled(string schema)
        => Assert.Throws<FormatException>(() => JsonSchema.Compile(Parse(schema), "x.json", _ => throw new InvalidOperationException()));

    [Theory]
    [InlineData("events/payment.captured.json", "../entities/payment.json", "entities/payment.json")]
    [InlineData("entities/payment.json", "order.json", "entities/order.json")]
    public void References_resolve_against_the_document_that_holds_them(string baseId, string reference, string expected)
        => Assert.Equal(expected, JsonSchema.Resolve(baseId, reference));

    private static SchemaViolation? Validate(string payload) => Schema.Validate(Parse(payload), "payload");

    private static JsonSchema Compile()
    {
        var entity = new Lazy<JsonSchema>(() => JsonSchema.Compile(Parse(Entity), "entities/payment.json", _ => throw new InvalidOperationException()));
        return JsonSchema.Compile(Parse(Event), "events/payment.captured.json", id => id == "entities/payment.json" ? entity.Value : throw new InvalidOperationException(id));
    }

    private static JsonElement Parse(string json) => JsonDocument.Parse(json).RootElement.Clone();
}
