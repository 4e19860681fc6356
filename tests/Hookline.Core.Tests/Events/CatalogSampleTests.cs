using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hookline.Core.Events;
using Hookline.Core.Sandbox;
using Hookline.Tests.Catalog;

namespace Hookline.Core.Tests.Events;

/// <summary>
/// The catalogue's samples are what the sandbox publishes for each event with seeded ids and a fixed clock, so
/// one piece of code shapes both. <c>HOOKLINE_WRITE_SAMPLES=1 dotnet test --filter CatalogSampleTests</c>
/// rewrites <c>catalog/samples/</c> after a sandbox change; the diff is then reviewed like code.
/// </summary>
public sealed class CatalogSampleTests
{
    private static readonly DateTimeOffset SampleTime = DateTimeOffset.FromUnixTimeSeconds(1_736_935_200);
    private static readonly JsonSerializerOptions Pretty = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static TheoryData<string> Events() => [.. EventCatalog.Default.All.Select(t => t.Name)];

    [Theory]
    [MemberData(nameof(Events))]
    public async Task Sample_is_what_the_sandbox_publishes_for_the_event(string name)
    {
        var generated = await GenerateAsync(name);
        var text = JsonSerializer.Serialize(generated, Pretty) + "\n";
        if (Environment.GetEnvironmentVariable("HOOKLINE_WRITE_SAMPLES") == "1")
        {
            await File.WriteAllTextAsync(Path.Combine(RepositoryRoot(), "catalog", "samples", name + ".json"), text);
            return;
        }

        var shipped = EventCatalog.Default.Find(name)!.Sample;
        Assert.True(shipped.ValueKind == JsonValueKind.Object, $"catalog/samples/{name}.json is missing");
        Assert.Equal(text, JsonSerializer.Serialize(shipped, Pretty) + "\n");
    }

    [Theory]
    [MemberData(nameof(Events))]
    public void Sample_satisfies_the_event_schema_and_Razorpay_entity_fields(string name)
    {
        var type = EventCatalog.Default.Find(name)!;
        Assert.Null(type.Validate(type.Sample));
        var notEntities = new List<string>();
        Assert.Empty(RazorpayEntities.Load().Check(type.Sample, notEntities));
        Assert.All(notEntities, key => Assert.Contains(key, FlatPayloadKeys));
        Assert.Equal(type.Contains, type.Sample.EnumerateObject().Select(p => p.Name));
    }

    /// <summary>The only payload keys that are plain values rather than entities: Razorpay's GMV warnings.</summary>
    internal static readonly string[] FlatPayloadKeys = ["acc_id", "gmv_limit", "current_gmv", "message"];

    internal static async Task<JsonObject> GenerateAsync(string name)
    {
        var flows = new SandboxFlows(EventCatalog.Default, new SandboxLedger(), () => new SeededSandboxIds(name));
        var events = await flows.TriggerAsync(
            "acc_SampleAccount000", name, new SandboxOptions(), SampleTime,
            published => Task.FromResult((true, published)), CancellationToken.None);
        return events.Last(e => e.Type.Name == name).Payload;
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Hookline.slnx")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Hookline.slnx not found above the test directory.");
    }
}
