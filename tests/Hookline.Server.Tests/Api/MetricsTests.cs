using System.Globalization;
using System.Text.RegularExpressions;
using Hookline.Core.Delivery;
using Hookline.Core.Observability;
using Hookline.Server.Health;
using Hookline.Server.Tests.Infrastructure;
using Hookline.Testing;

namespace Hookline.Server.Tests.Api;

/// <summary><c>GET /metrics</c>: Prometheus text format, counting what this host did and nothing of any other host.</summary>
public sealed partial class MetricsTests : IAsyncLifetime
{
    private HooklineHost _host = null!;
    private TestReceiver _receiver = null!;

    public async Task InitializeAsync()
    {
        // A clock that only the test moves: the failed delivery's retry never comes due while the test looks.
        _host = await HooklineHost.StartAsync(time: new ManualTimeProvider(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero)));
        _receiver = await TestReceiver.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    [Fact]
    public async Task A_fresh_host_serves_its_counters_at_zero_in_the_exposition_format()
    {
        using var anonymous = new HttpClient { BaseAddress = _host.BaseAddress };
        var response = await anonymous.GetAsync("/metrics");

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        var text = await response.Content.ReadAsStringAsync();
        AssertWellFormed(text);
        Assert.Contains("# TYPE hookline_events_ingested_total counter\n", text, StringComparison.Ordinal);
        Assert.Equal(0, Value(text, "hookline_events_ingested_total"));
        Assert.Equal(0, Value(text, "hookline_ingest_commit_duration_seconds_count"));
        Assert.Equal(0, Value(text, "hookline_dispatcher_held"));
        Assert.Equal(0, Value(text, "hookline_dispatcher_granted_total"));
        Assert.Equal(0, Value(text, "hookline_dispatcher_leased_total"));
    }

    [Fact]
    public async Task Ingestions_attempts_and_result_writes_are_counted_by_outcome_without_ids()
    {
        // The first request fails with a 500, every later one succeeds.
        _receiver.Handler = (n, context) => { context.Response.StatusCode = n == 1 ? 500 : 204; return Task.CompletedTask; };
        var account = await _host.CreateAccountAsync();
        await account.CreateWebhookAsync(_receiver.Url.ToString(), secret: "generate");
        await _host.PublishAsync(account.Id);
        await _receiver.WaitForAsync(1);
        await _host.PublishAsync(account.Id);
        await _host.PublishAsync(account.Id);
        await _receiver.WaitForAsync(3);

        var text = await Eventually.UntilAsync(
            () => _host.Platform.GetStringAsync("/metrics"),
            // An attempt is counted as soon as its answer is in, and leaves the in-flight gauge a moment later, when its
            // lane slot is freed: wait for both, or a snapshot between the two reads one attempt still in flight.
            t => Value(t, "hookline_delivery_attempts_total{outcome=\"success\"}") == 2 && Value(t, "hookline_delivery_attempts_total{outcome=\"http_status\"}") == 1
                && Value(t, "hookline_results_write_duration_seconds_count") >= 1 && Value(t, "hookline_dispatcher_in_flight") == 0,
            what: "three attempts counted, their results written and nothing left in flight");

        AssertWellFormed(text);
        Assert.Equal(3, Value(text, "hookline_events_ingested_total"));
        Assert.Equal(3, Value(text, "hookline_ingest_commit_duration_seconds_count"));
        Assert.Equal(3, Value(text, "hookline_ingest_commit_duration_seconds_bucket{le=\"+Inf\"}"));
        Assert.Equal(3, Value(text, "hookline_delivery_attempt_duration_seconds_count"));
        Assert.True(Value(text, "hookline_ingest_commit_duration_seconds_sum") > 0);
        // SQLite's own commits: at least the three ingestions and one batch of results (groups may share one).
        Assert.True(Value(text, "hookline_sqlite_commit_duration_seconds_count") >= 2);
        // The single writer's time, by the work it did: three ingestions, results, and the commits of both.
        foreach (var work in new[] { "ingest", "results", "commit" })
        {
            Assert.True(Value(text, $"hookline_sqlite_writer_busy_seconds_total{{work=\"{work}\"}}") > 0, work);
        }

        // Its CPU time over the same spans: some, and no more than the wall-clock time it was busy.
        var busy = new[] { "ingest", "lease", "results", "other", "commit" }
            .Sum(work => text.Contains($"hookline_sqlite_writer_busy_seconds_total{{work=\"{work}\"}} ", StringComparison.Ordinal) ? Value(text, $"hookline_sqlite_writer_busy_seconds_total{{work=\"{work}\"}}") : 0);
        Assert.InRange(Value(text, "hookline_sqlite_writer_cpu_seconds_total"), double.Epsilon, busy);

        Assert.True(Value(text, "hookline_dispatcher_lease_rounds_total") >= 1);
        // Each attempt's delivery was taken once, by one path or the other; a lone webhook with room takes its
        // deliveries from ingestion grants.
        Assert.Equal(3, Value(text, "hookline_dispatcher_granted_total") + Value(text, "hookline_dispatcher_leased_total"));
        Assert.True(Value(text, "hookline_dispatcher_granted_total") >= 1);
        Assert.DoesNotContain("\nhookline_delivery_attempts_total ", text, StringComparison.Ordinal); // no unlabelled zero beside the labelled series
        Assert.DoesNotContain(account.Id, text, StringComparison.Ordinal);
        Assert.DoesNotMatch(IdPattern(), text);
    }

    [Fact]
    public void Histograms_are_cumulative_and_labels_are_escaped()
    {
        using var metrics = new HooklineMetrics();
        using var exporter = new PrometheusExporter(metrics);
        foreach (var seconds in new[] { 0.0004, 0.003, 0.004, 7.0, 20.0 })
        {
            metrics.Attempted(AttemptOutcome.Failure(AttemptError.Timeout, TimeSpan.FromSeconds(seconds)));
        }

        var quoted = metrics.Meter.CreateCounter<long>("test.labels");
        quoted.Add(2, new KeyValuePair<string, object?>("path", "a\"b\\c\nd"));

        var text = exporter.Render();

        AssertWellFormed(text);
        Assert.Equal(1, Value(text, "hookline_delivery_attempt_duration_seconds_bucket{le=\"0.0005\"}"));
        Assert.Equal(1, Value(text, "hookline_delivery_attempt_duration_seconds_bucket{le=\"0.0025\"}"));
        Assert.Equal(3, Value(text, "hookline_delivery_attempt_duration_seconds_bucket{le=\"0.005\"}"));
        Assert.Equal(4, Value(text, "hookline_delivery_attempt_duration_seconds_bucket{le=\"10\"}"));
        Assert.Equal(5, Value(text, "hookline_delivery_attempt_duration_seconds_bucket{le=\"+Inf\"}"));
        Assert.Equal(5, Value(text, "hookline_delivery_attempt_duration_seconds_count"));
        Assert.Equal(27.0074, Value(text, "hookline_delivery_attempt_duration_seconds_sum"), 6);
        Assert.Equal(5, Value(text, "hookline_delivery_attempts_total{outcome=\"timeout\"}"));
        Assert.Equal(2, Value(text, "test_labels_total{path=\"a\\\"b\\\\c\\nd\"}"));

        // A second host's meter is not this exporter's business.
        using var other = new HooklineMetrics();
        other.Attempted(AttemptOutcome.Failure(AttemptError.Timeout, TimeSpan.FromSeconds(1)));
        Assert.Equal(5, Value(exporter.Render(), "hookline_delivery_attempts_total{outcome=\"timeout\"}"));
    }

    /// <summary>Every line a comment (HELP/TYPE) or <c>name{labels} value</c>; each histogram's buckets never decrease.</summary>
    private static void AssertWellFormed(string text)
    {
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        double? previous = null;
        string? family = null;
        foreach (var line in text.TrimEnd('\n').Split('\n'))
        {
            if (line.StartsWith('#'))
            {
                Assert.Matches(CommentLine(), line);
                continue;
            }

            var match = SampleLine().Match(line);
            Assert.True(match.Success, $"not a sample line: {line}");
            if (match.Groups["name"].Value.EndsWith("_bucket", StringComparison.Ordinal))
            {
                var value = double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture);
                var name = match.Groups["name"].Value + LabelsWithoutLe().Replace(match.Groups["labels"].Value, "");
                if (name == family)
                {
                    Assert.True(value >= previous, $"bucket decreased: {line}");
                }

                (family, previous) = (name, value);
            }
        }
    }

    private static double Value(string text, string series)
    {
        var line = text.Split('\n').SingleOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal))
            ?? throw new Xunit.Sdk.XunitException($"no series {series} in:\n{text}");
        return double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"^# (HELP [a-z_:][a-z0-9_:]* .*|TYPE [a-z_:][a-z0-9_:]* (counter|gauge|histogram))$")]
    private static partial Regex CommentLine();

    [GeneratedRegex(@"^(?<name>[a-z_:][a-z0-9_:]*)(?<labels>\{([a-z_][a-z0-9_]*=""([^""\\]|\\.)*"",?)*\})? (?<value>[0-9.eE+-]+|\+Inf|NaN)$")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@",?le=""[^""]*""")]
    private static partial Regex LabelsWithoutLe();

    [GeneratedRegex(@"(acc|evt|wh|whs|dlv)_[A-Za-z0-9]{6,}|hk_(test|live)_")]
    private static partial Regex IdPattern();
}
