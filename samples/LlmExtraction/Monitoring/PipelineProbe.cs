using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using ResilientQueue.Backpressure;
using ResilientQueue.Telemetry;

namespace LlmExtraction.Monitoring;

/// <summary>One sample of the pipeline, for the live view and the chart.</summary>
/// <param name="At">Time since the run started.</param>
/// <param name="Limit">The adaptive limit (summed over the worker processes).</param>
/// <param name="InFlight">Calls the workers' limiters let through at this moment.</param>
/// <param name="LatencyMs">The median latency of the model's answers since the previous sample (0: none).</param>
/// <param name="Capacity">The fake model's hidden capacity C (the limiter never sees it).</param>
/// <param name="Depth">Requests ready, delayed or running.</param>
/// <param name="Level">The backpressure level.</param>
internal sealed record PipelineSample(TimeSpan At, long Limit, long InFlight, double LatencyMs, int Capacity, long Depth, BackpressureLevel Level);

/// <summary>
/// Reads the library's metrics in this process with a <see cref="MeterListener"/> (the <c>ResilientQueue</c> meter, as
/// an OpenTelemetry exporter would): the worker's adaptive limit and in-flight permits, and its counts of completed,
/// retried, failed (by category and error type) and dead-lettered jobs, for the queue it watches.
/// </summary>
internal sealed class PipelineProbe : IDisposable
{
    private const string LimiterTag = "resilientqueue.limiter";
    private readonly MeterListener _listener = new();
    private readonly string _queue;
    private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);
    private long _limit;
    private long _inFlight;

    public PipelineProbe(string queue)
    {
        _queue = queue;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == ResilientQueueTelemetry.Name && instrument.Name is
                "resilientqueue.concurrency.limit" or "resilientqueue.concurrency.in_flight" or "resilientqueue.jobs.completed" or
                "resilientqueue.jobs.retried" or "resilientqueue.jobs.failed" or "resilientqueue.jobs.dead_lettered" or "resilientqueue.concurrency.drops")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>(OnMeasurement);
        _listener.Start();
    }

    /// <summary>Jobs completed by the worker(s) of this process.</summary>
    public long Completed => Count("completed");

    /// <summary>Failed attempts scheduled again, by error category (a rate-limit pause included).</summary>
    public IReadOnlyDictionary<string, long> RetriedByCategory => ByPrefix("retried:");

    /// <summary>Handler failures by "category (error type)".</summary>
    public IReadOnlyDictionary<string, long> FailedByCategory => ByPrefix("failed:");

    /// <summary>Jobs the worker dead-lettered, by category.</summary>
    public IReadOnlyDictionary<string, long> DeadLetteredByCategory => ByPrefix("dead:");

    /// <summary>Calls that told the limiter of overload (timeouts, 429/503).</summary>
    public long Drops => Count("drops");

    public long Retried => RetriedByCategory.Values.Sum();

    /// <summary>The limit and in-flight permits of this process's worker, read now.</summary>
    public (long Limit, long InFlight) ReadLimiter()
    {
        Interlocked.Exchange(ref _limit, 0);
        Interlocked.Exchange(ref _inFlight, 0);
        _listener.RecordObservableInstruments();
        return (Interlocked.Read(ref _limit), Interlocked.Read(ref _inFlight));
    }

    private void OnMeasurement(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        string? queue = null;
        string? limiter = null;
        string? category = null;
        string? type = null;
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            switch (tag.Key)
            {
                case ResilientQueueTelemetry.QueueTag: queue = tag.Value as string; break;
                case LimiterTag: limiter = tag.Value as string; break;
                case ResilientQueueTelemetry.ErrorCategoryTag: category = tag.Value as string; break;
                case ResilientQueueTelemetry.ErrorTypeTag: type = tag.Value as string; break;
            }
        }

        switch (instrument.Name)
        {
            case "resilientqueue.concurrency.limit" when limiter == _queue: Interlocked.Add(ref _limit, value); break;
            case "resilientqueue.concurrency.in_flight" when limiter == _queue: Interlocked.Add(ref _inFlight, value); break;
            case "resilientqueue.concurrency.drops" when limiter == _queue: Add("drops", value); break;
            case "resilientqueue.jobs.completed" when queue == _queue: Add("completed", value); break;
            case "resilientqueue.jobs.retried" when queue == _queue: Add($"retried:{category}", value); break;
            case "resilientqueue.jobs.failed" when queue == _queue: Add($"failed:{category} ({type})", value); break;
            case "resilientqueue.jobs.dead_lettered" when queue == _queue: Add($"dead:{category}", value); break;
        }
    }

    private void Add(string key, long value) => _counts.AddOrUpdate(key, value, (_, n) => n + value);

    private long Count(string key) => _counts.GetValueOrDefault(key);

    private SortedDictionary<string, long> ByPrefix(string prefix) =>
        new(_counts.Where(p => p.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(p => p.Key[prefix.Length..], p => p.Value), StringComparer.Ordinal);

    public void Dispose() => _listener.Dispose();
}
