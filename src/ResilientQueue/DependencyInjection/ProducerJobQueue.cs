using System.Diagnostics;
using ResilientQueue.DeadLetter;
using ResilientQueue.Errors;
using ResilientQueue.Recovery;
using ResilientQueue.Telemetry;

namespace ResilientQueue.DependencyInjection;

/// <summary>
/// The queue as the DI provider gives it: enqueues open a producer span, carry its W3C traceparent to the consumer
/// (unless the caller set one) and are counted; every other call goes straight to the backend.
/// </summary>
internal sealed class ProducerJobQueue(IJobQueue inner) : IJobQueue
{
    private readonly KeyValuePair<string, object?> _queueTag = ResilientQueueTelemetry.Queue(inner.Name);

    public IJobQueue Inner { get; } = inner;

    public string Name => Inner.Name;

    public IDeadLetterStore DeadLetters => Inner.DeadLetters;

    public async ValueTask<EnqueueResult> EnqueueAsync(ReadOnlyMemory<byte> payload, EnqueueOptions? options = null, CancellationToken cancellationToken = default)
    {
        using Activity? activity = StartSend();
        EnqueueResult result = await Inner.EnqueueAsync(payload, WithTraceParent(options, activity), cancellationToken).ConfigureAwait(false);
        Count(result);
        activity?.SetTag("messaging.message.id", result.JobId);
        return result;
    }

    public async ValueTask<IReadOnlyList<EnqueueResult>> EnqueueManyAsync(IReadOnlyList<JobSubmission> jobs, CancellationToken cancellationToken = default)
    {
        using Activity? activity = StartSend();
        IReadOnlyList<JobSubmission> traced = jobs;
        if ((activity ?? Activity.Current) is not null && jobs is not null)
        {
            var copy = new JobSubmission[jobs.Count];
            for (int i = 0; i < jobs.Count; i++)
            {
                copy[i] = jobs[i] with { Options = WithTraceParent(jobs[i].Options, activity) };
            }

            traced = copy;
        }

        IReadOnlyList<EnqueueResult> results = await Inner.EnqueueManyAsync(traced, cancellationToken).ConfigureAwait(false);
        foreach (EnqueueResult result in results)
        {
            Count(result);
        }

        activity?.SetTag("messaging.batch.message_count", results.Count);
        return results;
    }

    public ValueTask<Backpressure.BackpressureSignal> GetBackpressureAsync(CancellationToken cancellationToken = default) => Inner.GetBackpressureAsync(cancellationToken);

    public ValueTask<IReadOnlyList<LeasedJob>> FetchAsync(int maxCount, TimeSpan leaseDuration, CancellationToken cancellationToken = default) => Inner.FetchAsync(maxCount, leaseDuration, cancellationToken);

    public ValueTask<LeaseResult> AckAsync(JobLease lease, CancellationToken cancellationToken = default) => Inner.AckAsync(lease, cancellationToken);

    public ValueTask<IReadOnlyList<LeaseResult>> AckManyAsync(IReadOnlyList<JobLease> leases, CancellationToken cancellationToken = default) => Inner.AckManyAsync(leases, cancellationToken);

    public ValueTask<LeaseResult> FailAsync(JobLease lease, JobError error, RecoveryDecision decision, CancellationToken cancellationToken = default) => Inner.FailAsync(lease, error, decision, cancellationToken);

    public ValueTask<IReadOnlyList<LeaseResult>> FailManyAsync(IReadOnlyList<JobFailure> failures, CancellationToken cancellationToken = default) => Inner.FailManyAsync(failures, cancellationToken);

    public ValueTask<LeaseResult> RenewAsync(JobLease lease, TimeSpan leaseDuration, CancellationToken cancellationToken = default) => Inner.RenewAsync(lease, leaseDuration, cancellationToken);

    public ValueTask<LeaseResult> ReleaseAsync(JobLease lease, CancellationToken cancellationToken = default) => Inner.ReleaseAsync(lease, cancellationToken);

    public ValueTask<LeaseResult> SaveCheckpointAsync(JobLease lease, ReadOnlyMemory<byte> checkpoint, CancellationToken cancellationToken = default) => Inner.SaveCheckpointAsync(lease, checkpoint, cancellationToken);

    public ValueTask<IReadOnlyList<ReapedJob>> ReapExpiredAsync(int maxCount, TimeSpan olderThan = default, bool dryRun = false, CancellationToken cancellationToken = default) => Inner.ReapExpiredAsync(maxCount, olderThan, dryRun, cancellationToken);

    public ValueTask<bool> TryClaimTurnAsync(string name, string holder, TimeSpan turn, CancellationToken cancellationToken = default) => Inner.TryClaimTurnAsync(name, holder, turn, cancellationToken);

    public ValueTask<Job?> GetJobAsync(string jobId, CancellationToken cancellationToken = default) => Inner.GetJobAsync(jobId, cancellationToken);

    public ValueTask<QueueStatus> GetStatusAsync(CancellationToken cancellationToken = default) => Inner.GetStatusAsync(cancellationToken);

    public ValueTask PauseAsync(CancellationToken cancellationToken = default) => Inner.PauseAsync(cancellationToken);

    public ValueTask ResumeAsync(CancellationToken cancellationToken = default) => Inner.ResumeAsync(cancellationToken);

    public ValueTask<bool> WaitForJobsAsync(TimeSpan maxWait, CancellationToken cancellationToken = default) => Inner.WaitForJobsAsync(maxWait, cancellationToken);

    private Activity? StartSend()
    {
        Activity? activity = ResilientQueueTelemetry.ActivitySource.StartActivity($"send {Name}", ActivityKind.Producer);
        activity?.SetTag(ResilientQueueTelemetry.QueueTag, Name);
        activity?.SetTag("messaging.operation.type", "send");
        return activity;
    }

    private static EnqueueOptions? WithTraceParent(EnqueueOptions? options, Activity? activity)
    {
        // Our send span when someone listens to it; otherwise the caller's current span (e.g. the ASP.NET Core request),
        // so the consumer joins the trace either way.
        activity ??= Activity.Current;
        if (activity is null || activity.IdFormat != ActivityIdFormat.W3C || options?.TraceParent is not null)
        {
            return options;
        }

        EnqueueOptions traced = options?.Copy() ?? new EnqueueOptions();
        traced.TraceParent = activity.Id; // W3C id format: 00-<trace>-<span>-<flags>
        return traced;
    }

    private void Count(EnqueueResult result)
    {
        if (!result.Duplicate)
        {
            ResilientQueueTelemetry.Enqueued.Add(1, _queueTag);
        }
    }
}
