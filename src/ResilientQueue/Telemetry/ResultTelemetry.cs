using System.Diagnostics.Metrics;

namespace ResilientQueue.Telemetry;

/// <summary>The instruments of request–reply: how long producers wait for results, on the library's one meter.</summary>
internal static class ResultTelemetry
{
    internal static readonly Histogram<double> Wait = ResilientQueueTelemetry.Meter.CreateHistogram<double>(
        "resilientqueue.result.wait",
        "s",
        "How long producers waited for job results, by outcome (result, failed, not_found, timeout, cancelled, error).",
        tags: null,
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = ResilientQueueTelemetry.DurationBuckets }); // 5 ms to 10 min, as handlers' runs

    internal static void RecordWait(string queue, string outcome, TimeSpan waited) =>
        Wait.Record(waited.TotalSeconds, ResilientQueueTelemetry.Queue(queue), new KeyValuePair<string, object?>("resilientqueue.outcome", outcome));
}
