using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ResilientQueue.Telemetry;

/// <summary>The names under which the library reports metrics and traces; subscribe to them in OpenTelemetry.</summary>
public static class ResilientQueueTelemetry
{
    /// <summary>The name of the library's <see cref="System.Diagnostics.Metrics.Meter"/> and <see cref="System.Diagnostics.ActivitySource"/>: <c>ResilientQueue</c>.</summary>
    public const string Name = "ResilientQueue";

    /// <summary>The tag naming the queue (OpenTelemetry messaging convention).</summary>
    public const string QueueTag = "messaging.destination.name";

    /// <summary>The tag naming the error type (the exception's short type name), OpenTelemetry's <c>error.type</c>.</summary>
    public const string ErrorTypeTag = "error.type";

    /// <summary>The tag naming the error category (<see cref="Errors.ErrorCategory"/>).</summary>
    public const string ErrorCategoryTag = "resilientqueue.error.category";

    internal static readonly Meter Meter = new(Name, typeof(ResilientQueueTelemetry).Assembly.GetName().Version?.ToString());

    internal static readonly ActivitySource ActivitySource = new(Name, typeof(ResilientQueueTelemetry).Assembly.GetName().Version?.ToString());

    internal static readonly Counter<long> DeadLetterTrimmed = Meter.CreateCounter<long>(
        "resilientqueue.deadletter.trimmed",
        unit: "{job}",
        description: "Dead-letter entries removed by the store's bounds (reason: count or age).");

    internal static readonly Counter<long> Enqueued = Meter.CreateCounter<long>("resilientqueue.jobs.enqueued", "{job}", "Jobs enqueued through the DI queue provider (duplicates by idempotency key not counted).");

    internal static readonly Counter<long> Completed = Meter.CreateCounter<long>("resilientqueue.jobs.completed", "{job}", "Jobs whose handler (or timeout fallback) succeeded and whose ack was written.");

    internal static readonly Counter<long> Failed = Meter.CreateCounter<long>("resilientqueue.jobs.failed", "{job}", "Handler failures, by error type and category.");

    internal static readonly Counter<long> Retried = Meter.CreateCounter<long>("resilientqueue.jobs.retried", "{job}", "Failed jobs scheduled to run again (retry, or pause for a rate limit).");

    internal static readonly Counter<long> DeadLettered = Meter.CreateCounter<long>("resilientqueue.jobs.dead_lettered", "{job}", "Failed jobs moved to the dead-letter store by the worker's decision.");

    internal static readonly Counter<long> LeaseLost = Meter.CreateCounter<long>("resilientqueue.jobs.lease_lost", "{job}", "Jobs whose lease was lost while they ran; their outcome was not written.");

    internal static readonly Counter<long> FallbackRan = Meter.CreateCounter<long>("resilientqueue.jobs.fallback", "{job}", "Timed-out jobs completed by the handler's timeout fallback.");

    internal static readonly Counter<long> Released = Meter.CreateCounter<long>("resilientqueue.jobs.released", "{job}", "Leased jobs given back without spending an attempt (shutdown, abort).");

    internal static readonly Counter<long> Deferred = Meter.CreateCounter<long>("resilientqueue.jobs.deferred", "{job}", "Jobs put back without spending an attempt because their concurrency partition was at its limit.");

    /// <summary>Bucket bounds (seconds) of <c>resilientqueue.job.duration</c>: 5 ms to 10 minutes.</summary>
    internal static readonly double[] DurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

    /// <summary>Bucket bounds (seconds) of <c>resilientqueue.job.queue_wait</c>: 5 ms to 1 hour.</summary>
    internal static readonly double[] QueueWaitBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600, 1800, 3600];

    /// <summary>Bucket bounds (seconds) of <c>resilientqueue.job.processing_age</c>: 30 s to 10 minutes, and finer below.</summary>
    internal static readonly double[] ProcessingAgeBuckets = [1, 5, 10, 30, 60, 120, 180, 300, 600];

    internal static readonly Histogram<double> ProcessingDuration = Meter.CreateHistogram(
        "resilientqueue.job.duration", "s", "How long handlers ran, by outcome.", tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });

    internal static readonly Histogram<double> QueueWait = Meter.CreateHistogram(
        "resilientqueue.job.queue_wait", "s", "From when a job became available to when a worker started it.", tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = QueueWaitBuckets });

    internal static readonly Histogram<double> ProcessingAge = Meter.CreateHistogram(
        "resilientqueue.job.processing_age", "s", "How long each active job had been running at each sample of an observed queue (at most QueueMetricsOptions.MaxActiveSampled jobs per sample).", tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = ProcessingAgeBuckets });

    internal static readonly Counter<long> ReaperRuns = Meter.CreateCounter<long>("resilientqueue.reaper.runs", "{run}", "Reaper passes over a queue whose turn this process claimed and that completed (whether or not they took a job back).");

    internal static readonly Counter<long> ReaperFailures = Meter.CreateCounter<long>("resilientqueue.reaper.failures", "{run}", "Reaper passes over a queue that failed (the backend threw); the next interval tries again.");

    /// <summary>The last sample of each observed queue (<see cref="QueueMetricsSampler"/>), for the stale and age gauges.</summary>
    internal static readonly ConcurrentDictionary<string, QueueSample> LastSample = new(StringComparer.Ordinal);

    internal static readonly ObservableGauge<long> Stale = Meter.CreateObservableGauge(
        "resilientqueue.queue.stale",
        () => LastSample.Select(static p => new Measurement<long>(p.Value.Stale, Queue(p.Key))),
        "{job}",
        "Active jobs whose lease has run out and that no reaper has taken back yet, at the last sample of each observed queue (counted up to 1,000).");

    internal static readonly ObservableGauge<double> OldestReadyAge = Meter.CreateObservableGauge(
        "resilientqueue.queue.oldest_ready_age",
        () => LastSample.Where(static p => p.Value.OldestReadyAge is not null).Select(static p => new Measurement<double>(p.Value.OldestReadyAge!.Value, Queue(p.Key))),
        "s",
        "How long the ready job that has waited longest has been available, at the last sample of each observed queue (0 when none is ready).");

    internal static readonly ObservableGauge<double> OldestActiveAge = Meter.CreateObservableGauge(
        "resilientqueue.queue.oldest_active_age",
        () => LastSample.Where(static p => p.Value.OldestActiveAge is not null).Select(static p => new Measurement<double>(p.Value.OldestActiveAge!.Value, Queue(p.Key))),
        "s",
        "How long the longest-running active job had been running, at the last sample of each observed queue (0 when none is active).");

    internal static readonly UpDownCounter<long> InFlight = Meter.CreateUpDownCounter<long>("resilientqueue.jobs.in_flight", "{job}", "Jobs whose handler is running.");

    /// <summary>The last counts each running worker read of its queue, for the depth gauge.</summary>
    internal static readonly ConcurrentDictionary<string, QueueStatus> LastStatus = new(StringComparer.Ordinal);

    internal static readonly ObservableGauge<long> Depth = Meter.CreateObservableGauge(
        "resilientqueue.queue.depth",
        ObserveDepth,
        "{job}",
        "Jobs in each state of each queue a worker in this process consumes (read every StatusInterval) or the metrics sampler observes (read every QueueMetricsOptions.Interval).");

    /// <summary>The adaptive limiters with a name, for the limit and in-flight gauges.</summary>
    internal static readonly ConcurrentDictionary<Concurrency.AdaptiveConcurrencyLimiter, string> Limiters = new();

    /// <summary>The tag naming an adaptive limiter (<see cref="Concurrency.AdaptiveConcurrencyLimiterOptions.Name"/>).</summary>
    internal const string LimiterTag = "resilientqueue.limiter";

    internal static readonly ObservableGauge<long> ConcurrencyLimit = Meter.CreateObservableGauge(
        "resilientqueue.concurrency.limit",
        () => ObserveLimiters(static l => l.CurrentLimit),
        "{permit}",
        "The current limit of each named adaptive concurrency limiter (summed over limiters sharing a name, e.g. a worker's partitions).");

    internal static readonly ObservableGauge<long> ConcurrencyInFlight = Meter.CreateObservableGauge(
        "resilientqueue.concurrency.in_flight",
        () => ObserveLimiters(static l => l.InFlight),
        "{permit}",
        "Permits in use in each named adaptive concurrency limiter (summed over limiters sharing a name).");

    internal static readonly Counter<long> ConcurrencyDrops = Meter.CreateCounter<long>("resilientqueue.concurrency.drops", "{call}", "Calls that reported overload (timeout, 429/503, transient error) to a named adaptive limiter.");

    internal static readonly Counter<long> ConcurrencyRejections = Meter.CreateCounter<long>("resilientqueue.concurrency.rejections", "{request}", "Requests a named adaptive limiter rejected (no permit and no room to wait).");

    internal static KeyValuePair<string, object?> Queue(string queue) => new(QueueTag, queue);

    internal static void RecordReaperRun(string queue, bool failed) => (failed ? ReaperFailures : ReaperRuns).Add(1, Queue(queue));

    private static IEnumerable<Measurement<long>> ObserveDepth()
    {
        foreach ((string queue, QueueStatus status) in LastStatus)
        {
            var tag = Queue(queue);
            yield return new(status.Ready, tag, new("resilientqueue.state", "ready"));
            yield return new(status.Delayed, tag, new("resilientqueue.state", "delayed"));
            yield return new(status.Active, tag, new("resilientqueue.state", "active"));
            yield return new(status.Dead, tag, new("resilientqueue.state", "dead"));
        }
    }

    internal static readonly Counter<long> EnqueueRejected = Meter.CreateCounter<long>("resilientqueue.enqueue.rejected", "{job}", "Jobs not enqueued because the queue was full (reason: full, or wait_timeout after waiting for room).");

    /// <summary>The last backpressure level read of each queue in this process, for the level gauge.</summary>
    internal static readonly ConcurrentDictionary<string, Backpressure.BackpressureLevel> LastBackpressure = new(StringComparer.Ordinal);

    internal static readonly ObservableGauge<int> BackpressureLevelGauge = Meter.CreateObservableGauge(
        "resilientqueue.queue.backpressure",
        ObserveBackpressure,
        "{level}",
        "The last backpressure level read of each queue in this process: 0 normal, 1 elevated (at or above the high watermark), 2 saturated (at capacity).");

    internal static void RecordEnqueueRejected(string queue, string reason, int jobs) =>
        EnqueueRejected.Add(jobs, Queue(queue), new KeyValuePair<string, object?>("reason", reason));

    internal static Backpressure.BackpressureSignal RecordBackpressure(string queue, Backpressure.BackpressureSignal signal)
    {
        LastBackpressure[queue] = signal.Level;
        return signal;
    }

    private static IEnumerable<Measurement<int>> ObserveBackpressure()
    {
        foreach ((string queue, var level) in LastBackpressure)
        {
            yield return new((int)level, Queue(queue));
        }
    }

    internal static void RecordLimiterDrop(string? limiter)
    {
        if (limiter is not null)
        {
            ConcurrencyDrops.Add(1, new KeyValuePair<string, object?>(LimiterTag, limiter));
        }
    }

    internal static void RecordLimiterRejection(string? limiter)
    {
        if (limiter is not null)
        {
            ConcurrencyRejections.Add(1, new KeyValuePair<string, object?>(LimiterTag, limiter));
        }
    }

    private static IEnumerable<Measurement<long>> ObserveLimiters(Func<Concurrency.AdaptiveConcurrencyLimiter, int> read)
    {
        var sums = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach ((var limiter, string name) in Limiters)
        {
            sums[name] = sums.GetValueOrDefault(name) + read(limiter);
        }

        foreach ((string name, long sum) in sums)
        {
            yield return new(sum, new KeyValuePair<string, object?>(LimiterTag, name));
        }
    }

    internal static void RecordDeadLetterTrimmed(string queue, string reason, long count)
    {
        if (count > 0)
        {
            DeadLetterTrimmed.Add(count, new KeyValuePair<string, object?>(QueueTag, queue), new KeyValuePair<string, object?>("reason", reason));
        }
    }
}
