using System.Diagnostics;
using ResilientQueue.Telemetry;

namespace ResilientQueue.Processing;

/// <summary>The worker's trace: one consumer activity per job run, a child of the producer's trace when the job carries one.</summary>
internal static class WorkerActivity
{
    /// <summary>The tag of <c>resilientqueue.job.duration</c> that says how a run ended.</summary>
    public const string OutcomeTag = "resilientqueue.outcome";

    // The attempt tag boxed once per value, not once per job (attempts past the cache are boxed as they come).
    private static readonly object[] Attempts = [.. Enumerable.Range(0, 33).Select(static n => (object)n)];

    /// <summary>The activity's name for a queue (<c>process &lt;queue&gt;</c>): computed once per worker, not per job.</summary>
    public static string ProcessName(string queue) => $"process {queue}";

    public static Activity? StartProcess(Job job, string name) => StartProcess(ResilientQueueTelemetry.ActivitySource, job, name);

    /// <summary>Starts the job's consumer span on <paramref name="source"/> (tests pass a source of their own).</summary>
    public static Activity? StartProcess(ActivitySource source, Job job, string name)
    {
        if (!source.HasListeners())
        {
            return null;
        }

        ActivityContext parent = job.TraceParent is { } traceParent && ActivityContext.TryParse(traceParent, null, isRemote: true, out ActivityContext context) ? context : default;
        Activity? activity = source.StartActivity(name, ActivityKind.Consumer, parent);
        if (activity is { IsAllDataRequested: true })
        {
            // Tags only on a span that is recorded: a sampler that drops the job's span (OpenTelemetry then still
            // creates it, to propagate the trace context to what the handler calls) costs no tag nodes per job.
            activity.SetTag(ResilientQueueTelemetry.QueueTag, job.Queue);
            activity.SetTag("messaging.operation.type", "process");
            activity.SetTag("messaging.message.id", job.Id);
            activity.SetTag("resilientqueue.attempt", (uint)job.Attempts < (uint)Attempts.Length ? Attempts[job.Attempts] : job.Attempts);
        }

        return activity;
    }
}
