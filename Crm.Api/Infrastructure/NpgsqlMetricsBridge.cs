using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Crm.Jobs.Data;

namespace Crm.Api.Infrastructure;

// /metrics is anonymous, and Npgsql tags every measurement with its pool's name and server.
// The data sources this service builds are named (CrmDataSources.Names), but a connection
// opened from a bare connection string is named by that string: host, port, database and
// user (Hangfire's LISTEN connection, the shop's replication connection). OpenTelemetry's
// views can drop a tag but not rewrite its value, and Npgsql 10.0.3 cannot be told another
// name for such a pool, so this listener re-publishes Npgsql's instruments, same names and
// units, under the meter Crm.Npgsql: the pool name is one of ours or "other", and the server
// address and port are left out (docs/SECURITY.md, the /metrics promise).
// One per process, like Npgsql's own meter: every host of a process shares it.
public sealed class NpgsqlMetricsBridge
{
    public const string MeterName = "Crm.Npgsql";
    private const string PoolTag = "db.client.connection.pool.name";
    private const string OtherPool = "other";
    private static readonly HashSet<string> DroppedTags = ["server.address", "server.port"];

    private static readonly Lazy<NpgsqlMetricsBridge> Instance = new(() => new NpgsqlMetricsBridge());

    private readonly Meter _meter = new(MeterName);
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Instrument, Instrument> _mirrors = new();
    // What the observable instruments reported in the collection under way (one at a time).
    private readonly Lock _observing = new();
    private readonly Dictionary<Instrument, List<(double Value, KeyValuePair<string, object?>[] Tags)>> _observed = [];

    public static void EnsureStarted() => _ = Instance.Value;

    private NpgsqlMetricsBridge()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Npgsql" && Mirror(instrument) is { } mirror)
            {
                _mirrors[instrument] = mirror;
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Forward(instrument, value, tags));
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Forward(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Forward(instrument, value, tags));
        _listener.Start();
    }

    // The same kind of instrument in our meter; null for a kind Npgsql does not publish today.
    private Instrument? Mirror(Instrument source) => source switch
    {
        Counter<int> => _meter.CreateCounter<int>(source.Name, source.Unit, source.Description),
        Counter<long> => _meter.CreateCounter<long>(source.Name, source.Unit, source.Description),
        UpDownCounter<int> => _meter.CreateUpDownCounter<int>(source.Name, source.Unit, source.Description),
        Histogram<double> histogram => _meter.CreateHistogram(source.Name, source.Unit, source.Description,
            tags: null, advice: histogram.Advice),
        ObservableUpDownCounter<int> => _meter.CreateObservableUpDownCounter(source.Name,
            () => Observe(source, sum: true).Select(m => new Measurement<int>((int)m.Value, m.Tags)), source.Unit, source.Description),
        ObservableGauge<double> => _meter.CreateObservableGauge(source.Name,
            () => Observe(source, sum: false).Select(m => new Measurement<double>(m.Value, m.Tags)), source.Unit, source.Description),
        _ => null,
    };

    private void Forward<T>(Instrument source, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags) where T : struct
    {
        // Every database command passes here several times: the tags stay on the stack (TagList).
        var kept = Kept(tags);
        if (source.IsObservable)
        {
            _observed[source].Add((Convert.ToDouble(value), [.. kept]));
            return;
        }
        switch (_mirrors.GetValueOrDefault(source))
        {
            case Counter<T> counter:
                counter.Add(value, in kept);
                break;
            case UpDownCounter<T> upDown:
                upDown.Add(value, in kept);
                break;
            case Histogram<T> histogram:
                histogram.Record(value, in kept);
                break;
        }
    }

    // Npgsql's callbacks answer for every pool at once: ask them, then keep this instrument's
    // figures. Counts of pools that map to the same tags ("other") add up; a ratio cannot, so
    // a gauge keeps named pools only.
    private IEnumerable<(double Value, KeyValuePair<string, object?>[] Tags)> Observe(Instrument source, bool sum)
    {
        List<(double Value, KeyValuePair<string, object?>[] Tags)> figures;
        lock (_observing)
        {
            _observed.Clear();
            foreach (var instrument in _mirrors.Keys.Where(i => i.IsObservable))
                _observed[instrument] = [];
            _listener.RecordObservableInstruments();
            figures = _observed[source];
        }
        if (!sum)
            return figures.Where(f => !f.Tags.Contains(new(PoolTag, OtherPool)));
        return figures
            .GroupBy(f => string.Join('\n', f.Tags.Select(t => $"{t.Key}={t.Value}")))
            .Select(g => (g.Sum(f => f.Value), g.First().Tags));
    }

    private static TagList Kept(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var kept = new TagList();
        foreach (var tag in tags)
        {
            if (DroppedTags.Contains(tag.Key))
                continue;
            kept.Add(tag.Key == PoolTag
                ? new(PoolTag, tag.Value is string name && CrmDataSources.Names.Contains(name) ? name : OtherPool)
                : tag);
        }
        return kept;
    }
}
