using System.Diagnostics;
using ResilientQueue.Telemetry;

namespace ResilientQueue.Processing;

/// <summary>The worker's trace: one consumer activity per job run, a child of the producer's trace when the job carries one.</summary>
internal static class WorkerActivity
{
    /// <summary>The tag of <c>resilientqueue.job.duration</c> that says how a run ended.</summary>
    public const string OutcomeTag = "resilientqueue.outcome";

    public static Activity? StartProcess(Job job)
    {
        if (!ResilientQueueTelemetry.ActivitySource.HasListeners())
        {
            return null;
        }

        ActivityContext parent = job.TraceParent is { } traceParent && ActivityContext.TryParse(traceParent, null, isRemote: true, out ActivityContext context) ? context : default;
        Activity? activity = ResilientQueueTelemetry.ActivitySource.StartActivity($"process {job.Queue}", ActivityKind.Consumer, parent);
        activity?.SetTag(ResilientQueueTelemetry.QueueTag, job.Queue);
        activity?.SetTag("messaging.operation.type", "process");
        activity?.SetTag("messaging.message.id", job.Id);
        activity?.SetTag("resilientqueue.attempt", job.Attempts);
        return activity;
    }
}
