using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace ResilientQueue.Conformance.Infrastructure;

/// <summary>Collects the measurements of one instrument of the ResilientQueue meter, for assertions.</summary>
public sealed class MetricCollector : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(long Value, KeyValuePair<string, object?>[] Tags)> _measurements = new();

    public MetricCollector(string instrumentName)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "ResilientQueue" && instrument.Name == instrumentName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) => _measurements.Enqueue((value, tags.ToArray())));
        _listener.Start();
    }

    /// <summary>The sum of the measurements whose tags include every given tag.</summary>
    public long Sum(params (string Key, object? Value)[] tags) =>
        _measurements
            .Where(m => tags.All(t => m.Tags.Any(x => x.Key == t.Key && Equals(x.Value, t.Value))))
            .Sum(m => m.Value);

    public void Dispose() => _listener.Dispose();
}

/// <summary>Reads the current values of an observable instrument of the ResilientQueue meter.</summary>
public static class ObservableReader
{
    /// <summary>Collects the instrument once and returns its measurements whose tags include every given tag.</summary>
    public static long[] Read(string instrumentName, params (string Key, object? Value)[] tags)
    {
        var values = new List<long>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "ResilientQueue" && instrument.Name == instrumentName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        void Record(long value, ReadOnlySpan<KeyValuePair<string, object?>> measured)
        {
            KeyValuePair<string, object?>[] all = measured.ToArray();
            if (tags.All(t => all.Any(x => x.Key == t.Key && Equals(x.Value, t.Value))))
            {
                lock (values)
                {
                    values.Add(value);
                }
            }
        }

        listener.SetMeasurementEventCallback<long>((_, value, measured, _) => Record(value, measured));
        listener.SetMeasurementEventCallback<int>((_, value, measured, _) => Record(value, measured));
        listener.Start();
        listener.RecordObservableInstruments();
        lock (values)
        {
            return values.ToArray();
        }
    }
}
