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

    internal static readonly Meter Meter = new(Name, typeof(ResilientQueueTelemetry).Assembly.GetName().Version?.ToString());

    internal static readonly ActivitySource ActivitySource = new(Name, typeof(ResilientQueueTelemetry).Assembly.GetName().Version?.ToString());

    internal static readonly Counter<long> DeadLetterTrimmed = Meter.CreateCounter<long>(
        "resilientqueue.deadletter.trimmed",
        unit: "{job}",
        description: "Dead-letter entries removed by the store's bounds (reason: count or age).");

    internal static void RecordDeadLetterTrimmed(string queue, string reason, long count)
    {
        if (count > 0)
        {
            DeadLetterTrimmed.Add(count, new KeyValuePair<string, object?>(QueueTag, queue), new KeyValuePair<string, object?>("reason", reason));
        }
    }
}
