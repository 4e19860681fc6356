using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using Hookline.Core.Observability;

namespace Hookline.Server.Health;

/// <summary>
/// Renders this host's <see cref="HooklineMetrics"/> in the Prometheus text exposition format (version 0.0.4)
/// for <c>GET /metrics</c>. No exporter package is used: a <see cref="MeterListener"/> aggregates the meter's
/// measurements in memory (counters as running sums, histograms into fixed buckets, observable instruments read
/// at scrape time), and <see cref="Render"/> writes them out. Names follow Prometheus conventions: dots become
/// underscores, seconds get <c>_seconds</c>, counters <c>_total</c>.
/// </summary>
internal sealed class PrometheusExporter : IDisposable
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>Bucket bounds for every seconds histogram: sub-millisecond commits up to the 5 s attempt timeout.</summary>
    private static readonly double[] Bounds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Instrument, Family> _families = new();
    private readonly Lock _scrape = new();

    public PrometheusExporter(HooklineMetrics metrics)
    {
        var meter = metrics.Meter;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, meter))
            {
                listener.EnableMeasurementEvents(instrument, _families.GetOrAdd(instrument, i => new Family(i)));
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, state) => ((Family)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>((_, value, tags, state) => ((Family)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>((_, value, tags, state) => ((Family)state!).Record(value, tags));
        _listener.Start();
    }

    public string Render()
    {
        var text = new StringBuilder(4096);
        lock (_scrape)
        {
            // Observable instruments (gauges) report now, into their families, before anything is written.
            _listener.RecordObservableInstruments();
            foreach (var family in _families.Values.OrderBy(f => f.Name, StringComparer.Ordinal))
            {
                family.Write(text);
            }
        }

        return text.ToString();
    }

    public void Dispose() => _listener.Dispose();

    private enum Kind
    {
        Counter,
        Gauge,
        Histogram,
    }

    private sealed class Family
    {
        private readonly ConcurrentDictionary<string, Series> _series = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<(string Key, string Value), Series> _byTag = new();
        private readonly Kind _kind;
        private readonly bool _observable;
        private readonly string? _help;

        public Family(Instrument instrument)
        {
            var type = instrument.GetType().GetGenericTypeDefinition();
            _kind = type == typeof(Histogram<>) ? Kind.Histogram
                : type == typeof(Counter<>) || type == typeof(ObservableCounter<>) ? Kind.Counter
                : Kind.Gauge;
            _observable = instrument.IsObservable;
            _help = instrument.Description;
            var name = instrument.Name.Replace('.', '_').Replace('-', '_');
            if (instrument.Unit == "s")
            {
                name += "_seconds";
            }

            Name = _kind == Kind.Counter ? name + "_total" : name;
            if (!_observable && _kind != Kind.Gauge)
            {
                // A counter or histogram is there from the first scrape, at zero, not only once something happened.
                _series[""] = new Series(_kind);
            }
        }

        public string Name { get; }

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var series = Find(tags);

            if (_kind == Kind.Histogram)
            {
                series.Observe(value);
            }
            else if (_observable)
            {
                // Observable counters report their running total and gauges their current value.
                series.Set(value);
            }
            else
            {
                series.Add(value);
            }
        }

        public void Write(StringBuilder text)
        {
            if (_series.IsEmpty)
            {
                return;
            }

            if (!string.IsNullOrEmpty(_help))
            {
                text.Append("# HELP ").Append(Name).Append(' ').Append(_help.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)).Append('\n');
            }

            text.Append("# TYPE ").Append(Name).Append(' ').Append(_kind switch { Kind.Counter => "counter", Kind.Histogram => "histogram", _ => "gauge" }).Append('\n');
            foreach (var (labels, series) in _series.OrderBy(s => s.Key, StringComparer.Ordinal))
            {
                if (labels.Length == 0 && _series.Count > 1 && series.IsEmpty)
                {
                    // The zero placeholder of a family whose measurements all carry labels.
                    continue;
                }

                if (_kind == Kind.Histogram)
                {
                    series.WriteHistogram(text, Name, labels);
                }
                else
                {
                    Sample(text, Name, labels, null, series.Value);
                }
            }
        }

        /// <summary>The series of these tags; one tag with a string value (every tagged Hookline instrument) allocates nothing.</summary>
        private Series Find(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (tags.Length == 1 && tags[0].Value is string value && _byTag.TryGetValue((tags[0].Key, value), out var tagged))
            {
                return tagged;
            }

            var labels = Labels(tags);
            var series = _series.GetOrAdd(labels, _ => new Series(_kind));
            if (tags.Length == 1 && tags[0].Value is string key)
            {
                _byTag.TryAdd((tags[0].Key, key), series);
            }

            return series;
        }

        private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (tags.IsEmpty)
            {
                return "";
            }

            var labels = new StringBuilder();
            foreach (var (key, value) in tags)
            {
                if (labels.Length > 0)
                {
                    labels.Append(',');
                }

                labels.Append(key.Replace('.', '_')).Append("=\"")
                    .Append((Convert.ToString(value, CultureInfo.InvariantCulture) ?? "")
                        .Replace("\\", "\\\\", StringComparison.Ordinal)
                        .Replace("\"", "\\\"", StringComparison.Ordinal)
                        .Replace("\n", "\\n", StringComparison.Ordinal))
                    .Append('"');
            }

            return labels.ToString();
        }
    }

    private static void Sample(StringBuilder text, string name, string labels, string? le, double value)
    {
        text.Append(name);
        if (labels.Length > 0 || le is not null)
        {
            text.Append('{').Append(labels);
            if (le is not null)
            {
                text.Append(labels.Length > 0 ? "," : "").Append("le=\"").Append(le).Append('"');
            }

            text.Append('}');
        }

        text.Append(' ').Append(Number(value)).Append('\n');
    }

    private static string Number(double value) => double.IsPositiveInfinity(value) ? "+Inf"
        : double.IsNegativeInfinity(value) ? "-Inf"
        : double.IsNaN(value) ? "NaN"
        : value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>One labelled series: a value, or a histogram's buckets (not cumulative until written), count and sum.</summary>
    private sealed class Series(Kind kind)
    {
        private readonly long[]? _buckets = kind == Kind.Histogram ? new long[Bounds.Length + 1] : null;
        private double _value;

        public double Value => Volatile.Read(ref _value);

        public bool IsEmpty => Value == 0 && (_buckets is null || _buckets.All(b => b == 0));

        public void Set(double value) => Volatile.Write(ref _value, value);

        public void Add(double value)
        {
            var current = Volatile.Read(ref _value);
            while (true)
            {
                var seen = Interlocked.CompareExchange(ref _value, current + value, current);
                if (seen.Equals(current))
                {
                    return;
                }

                current = seen;
            }
        }

        public void Observe(double value)
        {
            var bucket = 0;
            while (bucket < Bounds.Length && value > Bounds[bucket])
            {
                bucket++;
            }

            Interlocked.Increment(ref _buckets![bucket]);
            Add(value);
        }

        public void WriteHistogram(StringBuilder text, string name, string labels)
        {
            long cumulative = 0;
            for (var i = 0; i < Bounds.Length; i++)
            {
                cumulative += Interlocked.Read(ref _buckets![i]);
                Sample(text, name + "_bucket", labels, Number(Bounds[i]), cumulative);
            }

            // The +Inf bucket and the count are the same figure, read once, so a scrape never shows them apart.
            cumulative += Interlocked.Read(ref _buckets![Bounds.Length]);
            Sample(text, name + "_bucket", labels, "+Inf", cumulative);
            Sample(text, name + "_sum", labels, null, Value);
            Sample(text, name + "_count", labels, null, cumulative);
        }
    }
}
