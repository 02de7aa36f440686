using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using ResilientQueue.Telemetry;

namespace CrawlPipeline.Pipeline;

/// <summary>
/// What this run did, read from the library's own instruments (meter <c>ResilientQueue</c>, as an exporter would) plus
/// the pipeline's counts of links: failures by queue and category, retries, dead letters, fallbacks, reaped leases,
/// the crawl's current concurrency limit and the extract queue's backpressure level.
/// </summary>
public sealed class PipelineStats : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<(string Instrument, string Queue, string Detail), long> _counts = new();
    private readonly ConcurrentDictionary<(string Instrument, string Key), long> _gauges = new();
    private long _linksFound;
    private long _duplicates;
    private long _backpressureWaits;

    /// <summary>Starts listening.</summary>
    public PipelineStats()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == ResilientQueueTelemetry.Name)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>(OnMeasurement);
        _listener.SetMeasurementEventCallback<int>((i, v, t, s) => OnMeasurement(i, v, t, s));
        _listener.SetMeasurementEventCallback<double>((i, v, t, s) => OnMeasurement(i, (long)v, t, s));
        _listener.Start();
    }

    /// <summary>Links read on crawled pages.</summary>
    public long LinksFound => Interlocked.Read(ref _linksFound);

    /// <summary>Links whose enqueue the idempotency key turned away (already known).</summary>
    public long Duplicates => Interlocked.Read(ref _duplicates);

    /// <summary>How often a crawl job found the extract queue above its watermark and waited.</summary>
    public long BackpressureWaits => Interlocked.Read(ref _backpressureWaits);

    /// <summary>Counts a link read.</summary>
    public void LinkFound(bool duplicate)
    {
        Interlocked.Increment(ref _linksFound);
        if (duplicate)
        {
            Interlocked.Increment(ref _duplicates);
        }
    }

    /// <summary>Counts a wait for the extract queue.</summary>
    public void BackpressureWaited() => Interlocked.Increment(ref _backpressureWaits);

    /// <summary>Reads the observable gauges (limit, backpressure) now.</summary>
    public void Sample() => _listener.RecordObservableInstruments();

    /// <summary>A counter's total for a queue, e.g. <c>("resilientqueue.jobs.retried", "crawl")</c>.</summary>
    public long Count(string instrument, string queue) =>
        _counts.Where(c => c.Key.Instrument == instrument && c.Key.Queue == queue).Sum(c => c.Value);

    /// <summary>Failures by category of one queue (<c>resilientqueue.jobs.failed</c>).</summary>
    public IReadOnlyDictionary<string, long> FailuresByCategory(string queue) =>
        _counts.Where(c => c.Key.Instrument == "resilientqueue.jobs.failed" && c.Key.Queue == queue)
            .GroupBy(c => c.Key.Detail).ToDictionary(g => g.Key, g => g.Sum(c => c.Value), StringComparer.Ordinal);

    /// <summary>Failures by category over every queue.</summary>
    public IReadOnlyDictionary<string, long> FailuresByCategory() =>
        _counts.Where(c => c.Key.Instrument == "resilientqueue.jobs.failed")
            .GroupBy(c => c.Key.Detail).ToDictionary(g => g.Key, g => g.Sum(c => c.Value), StringComparer.Ordinal);

    /// <summary>The last value of a gauge for a limiter or queue, if it reported one.</summary>
    public long? Gauge(string instrument, string key) => _gauges.TryGetValue((instrument, key), out long value) ? value : null;

    /// <inheritdoc />
    public void Dispose() => _listener.Dispose();

    private void OnMeasurement(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        string queue = string.Empty, detail = string.Empty, limiter = string.Empty;
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            switch (tag.Key)
            {
                case ResilientQueueTelemetry.QueueTag: queue = tag.Value as string ?? string.Empty; break;
                case ResilientQueueTelemetry.ErrorCategoryTag: detail = tag.Value as string ?? string.Empty; break;
                case "resilientqueue.limiter": limiter = tag.Value as string ?? string.Empty; break;
            }
        }

        if (instrument is ObservableGauge<long> or ObservableGauge<int> or ObservableGauge<double>)
        {
            _gauges[(instrument.Name, limiter.Length > 0 ? limiter : queue)] = value;
        }
        else if (instrument is Counter<long> or Counter<int>)
        {
            _counts.AddOrUpdate((instrument.Name, queue, detail), value, (_, n) => n + value);
        }
    }
}
