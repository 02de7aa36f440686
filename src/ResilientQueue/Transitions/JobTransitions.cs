using ResilientQueue.Errors;
using ResilientQueue.Leases;
using ResilientQueue.Reaping;
using ResilientQueue.Recovery;

namespace ResilientQueue.Transitions;

/// <summary>
/// The job state machine, decided in one place: for a failure, a reap, a release and a dead-letter requeue, where the
/// job goes, whether its attempt is given back, at the head or the tail, and the texts stored with it. Every backend
/// receives these decisions and only stores them (see <see cref="Backends.JobQueueBase"/>); none decides on its own.
/// </summary>
internal static class JobTransitions
{
    /// <summary>
    /// A failure of a leased job. A retry that spends the last attempt dead-letters the job with
    /// <see cref="ExhaustedReason"/>; a retry or pause that gives the attempt back never does.
    /// </summary>
    /// <param name="failure">The lease (its attempt and max attempts), the error and the decision.</param>
    /// <param name="now">Now, in whole milliseconds.</param>
    public static JobTransition Fail(in JobFailure failure, DateTimeOffset now)
    {
        RecoveryDecision decision = failure.Decision;
        JobError error = failure.Error;
        return decision.Action switch
        {
            RecoveryAction.Retry when decision.SpendsAttempt && failure.Lease.IsLastAttempt =>
                Dead(now, ExhaustedReason(failure.Lease.MaxAttempts, error.ToString()), error),
            RecoveryAction.Retry or RecoveryAction.Pause =>
                Schedule(now, Backends.JobArguments.CeilingToMilliseconds(decision.Delay), decision.SpendsAttempt ? AttemptChange.Keep : AttemptChange.Refund, error),
            RecoveryAction.Abort => new JobTransition(JobDestination.Ready, AtHead: true, now, AttemptChange.Refund, error, null, default),
            RecoveryAction.DeadLetter => Dead(now, decision.Reason ?? error.ToString(), error),
            RecoveryAction.Skip => new JobTransition(JobDestination.Removed, AtHead: false, now, AttemptChange.Keep, error, null, default),
            _ => throw new ArgumentException($"Unknown recovery action {(int)decision.Action}; create decisions with the RecoveryDecision factories.", nameof(failure)),
        };
    }

    /// <summary>A release (shutdown, a busy partition): ready again at the head of its priority, the attempt given back.</summary>
    public static JobTransition Release(DateTimeOffset now) =>
        new(JobDestination.Ready, AtHead: true, now, AttemptChange.Refund, Failure: null, null, default);

    /// <summary>
    /// A lease that ran out. Its handler never started (no started mark; the worker holding it in its buffer crashed)
    /// and the job got that refund fewer than <see cref="IJobConsumer.MaxUnstartedRefunds"/> times: ready at the head of
    /// its priority with the attempt given back, nothing recorded (it never ran). Otherwise: with attempts left, ready
    /// at the head keeping its attempts (the crashed attempt counts, so a job that kills its worker every time ends
    /// dead-lettered, at most <see cref="IJobConsumer.MaxUnstartedRefunds"/> runs later when its marks never landed);
    /// with none left, dead-lettered with <see cref="ErrorCategory.LeaseExpired"/>; the failure is recorded either way.
    /// </summary>
    public static JobTransition Reap(in Backends.ExpiredLease lease, DateTimeOffset now)
    {
        JobLease expired = lease.Lease;
        if (!lease.HandlerStarted && lease.UnstartedRefunds < IJobConsumer.MaxUnstartedRefunds && expired.Attempt > 0)
        {
            return new JobTransition(JobDestination.Ready, AtHead: true, now, AttemptChange.RefundUnstarted, Failure: null, null, default);
        }

        JobError error = LeaseExpiredError(expired.ExpiresAt);
        return expired.IsLastAttempt
            ? Dead(now, ExhaustedReason(expired.MaxAttempts, error.ToString()), error)
            : new JobTransition(JobDestination.Ready, AtHead: true, now, AttemptChange.Keep, error, null, default);
    }

    /// <summary>What a reap transition does, as the reaper reports it.</summary>
    public static ReapAction ReapActionOf(in JobTransition transition) =>
        transition.Destination == JobDestination.Dead ? ReapAction.DeadLettered : ReapAction.Requeued;

    /// <summary>A dead-letter entry requeued: ready at the tail, keeping its attempts (one more attempt) or with all of them back.</summary>
    public static JobTransition Requeue(bool resetAttempts, DateTimeOffset now) =>
        new(JobDestination.Ready, AtHead: false, now, resetAttempts ? AttemptChange.Reset : AttemptChange.Keep, Failure: null, null, default);

    /// <summary>What an applied (or not applied) failure transition did, for the caller.</summary>
    public static FailResult ResultOf(in JobTransition transition, bool applied) =>
        !applied ? FailResult.LeaseLost
        : transition.Destination switch
        {
            JobDestination.Dead => new FailResult(FailOutcome.DeadLettered, AttemptSpent: true, DeadLetterReason: transition.DeadLetterReason),
            JobDestination.Removed => new FailResult(FailOutcome.Removed, AttemptSpent: true),
            _ => new FailResult(FailOutcome.Retrying, transition.AvailableAt, AttemptSpent: transition.Attempts == AttemptChange.Keep),
        };

    /// <summary>The dead-letter reason when a failure spent the last attempt. Every backend stores exactly this text.</summary>
    public static string ExhaustedReason(int maxAttempts, string error) => $"Max attempts ({maxAttempts}) exhausted. Last error: {error}";

    /// <summary>The error recorded when the reaper takes back a job whose lease ran out; reads <c>LeaseExpired: the lease ran out at …</c>.</summary>
    public static JobError LeaseExpiredError(DateTimeOffset leaseExpiredAt) => new(
        "LeaseExpired",
        $"the lease ran out at {leaseExpiredAt.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.fff'Z'} without an ack (worker crashed, hung or lost its connection)",
        ErrorCategory.LeaseExpired);

    private static JobTransition Schedule(DateTimeOffset now, TimeSpan delay, AttemptChange attempts, JobError error) =>
        delay > TimeSpan.Zero
            ? new JobTransition(JobDestination.Delayed, AtHead: false, now + delay, attempts, error, null, default)
            : new JobTransition(JobDestination.Ready, AtHead: false, now, attempts, error, null, default);

    private static JobTransition Dead(DateTimeOffset now, string reason, JobError error) =>
        new(JobDestination.Dead, AtHead: false, now, AttemptChange.Keep, error, reason, error.Category);
}
