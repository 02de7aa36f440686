using ResilientQueue.Leases;
using ResilientQueue.Results;
using ResilientQueue.Transitions;

namespace ResilientQueue;

/// <summary>
/// The consuming side of a queue: lease jobs, and end each lease with an ack, a failure or a release. Delivery is
/// at-least-once and fenced: a fetch leases jobs with a token, and every later call on the job checks that token, so a
/// worker whose lease was taken over gets <see cref="LeaseOutcome.LeaseLost"/>, never a silent success. Every call on
/// leases takes a batch (single-lease forms are extension methods: <see cref="JobConsumerExtensions"/>); each lease in a
/// batch is checked on its own.
/// </summary>
public interface IJobConsumer
{
    /// <summary>The queue's name (see <see cref="QueueNames"/>).</summary>
    string Name { get; }

    /// <summary>
    /// Leases up to <paramref name="maxCount"/> jobs, highest priority first and FIFO within a priority, after making due
    /// delayed jobs ready. Each fetch spends one attempt of each job. Returns at once: empty when nothing is ready or the
    /// queue is paused (see <see cref="WaitForJobsAsync"/>).
    /// </summary>
    /// <param name="maxCount">The most jobs to lease; 1 to <see cref="JobQueueOptions.MaxBatchSize"/>.</param>
    /// <param name="leaseDuration">How long the leases last unless renewed; more than zero, at most <see cref="JobQueueOptions.MaxLeaseDuration"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The leased jobs, in fetch order.</returns>
    ValueTask<IReadOnlyList<LeasedJob>> FetchAsync(int maxCount, TimeSpan leaseDuration, CancellationToken cancellationToken = default);

    /// <summary>Marks leased jobs completed: removed, or kept per <see cref="JobQueueOptions.CompletedRetention"/>.</summary>
    /// <param name="leases">The leases; 1 to <see cref="JobQueueOptions.MaxBatchSize"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>One result per lease, in order: <see cref="LeaseResult.Succeeded"/>, or <see cref="LeaseResult.LeaseLost"/> with nothing changed for that job.</returns>
    ValueTask<IReadOnlyList<LeaseResult>> AckManyAsync(IReadOnlyList<JobLease> leases, CancellationToken cancellationToken = default);

    /// <summary>
    /// Marks leased jobs completed, as <see cref="AckManyAsync"/> does, and stores each one's result with it in the same
    /// atomic step (a job is never completed without its result), for <see cref="JobResultOptions.Retention"/>; producers
    /// waiting for the results (<see cref="IJobProducer.WaitForResultAsync"/>) are woken.
    /// </summary>
    /// <param name="completions">The leases and results; 1 to <see cref="JobQueueOptions.MaxBatchSize"/>, each result at most <see cref="JobResultOptions.MaxBytes"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>One result per completion, in order: <see cref="LeaseResult.Succeeded"/>, or <see cref="LeaseResult.LeaseLost"/> with nothing changed or stored for that job.</returns>
    /// <exception cref="JobResultTooLargeException">A result is larger than <see cref="JobResultOptions.MaxBytes"/>; nothing was changed.</exception>
    ValueTask<IReadOnlyList<LeaseResult>> CompleteManyAsync(IReadOnlyList<JobCompletion> completions, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records failures of leased jobs and applies each decision: a retry schedules the job after the delay, or
    /// dead-letters it when the decision spends its last attempt; a dead-letter decision dead-letters it; skip removes it;
    /// pause schedules it after the pause without spending an attempt; abort makes it ready again, at the head of its
    /// priority, without spending one. Pausing or stopping the consumer itself is the worker's part, not the queue's.
    /// Times are whole milliseconds: a delay is rounded up.
    /// </summary>
    /// <param name="failures">The failures; 1 to <see cref="JobQueueOptions.MaxBatchSize"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>One result per failure, in order: what was applied (retrying at a time, dead-lettered, removed), or <see cref="FailResult.LeaseLost"/>.</returns>
    ValueTask<IReadOnlyList<FailResult>> FailManyAsync(IReadOnlyList<JobFailure> failures, CancellationToken cancellationToken = default);

    /// <summary>Extends leases to <paramref name="leaseDuration"/> from now.</summary>
    /// <param name="leases">The leases; 1 to <see cref="JobQueueOptions.MaxBatchSize"/>.</param>
    /// <param name="leaseDuration">The new duration from now; more than zero, at most <see cref="JobQueueOptions.MaxLeaseDuration"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>One result per lease, in order; <see cref="LeaseResult.LeaseLost"/> means: stop working on that job.</returns>
    ValueTask<IReadOnlyList<LeaseResult>> RenewManyAsync(IReadOnlyList<JobLease> leases, TimeSpan leaseDuration, CancellationToken cancellationToken = default);

    /// <summary>
    /// Marks leased jobs whose handler has started. A lease that runs out unmarked (its worker crashed while the job was
    /// buffered, before it ran) is taken back by the reaper with its attempt given back, at most
    /// <see cref="MaxUnstartedRefunds"/> times in a job's life; a marked one keeps the attempt spent, so a job that kills
    /// its worker every time still ends dead-lettered. The hosted worker writes these marks shortly after each start,
    /// together with its acknowledgements, and skips the marks of jobs whose outcome came first.
    /// </summary>
    /// <param name="leases">The leases; 1 to <see cref="JobQueueOptions.MaxBatchSize"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>One result per lease, in order.</returns>
    ValueTask<IReadOnlyList<LeaseResult>> MarkStartedManyAsync(IReadOnlyList<JobLease> leases, CancellationToken cancellationToken = default);

    /// <summary>How many times in a job's life a lease that ran out before its handler was marked started gives its attempt back: 2.</summary>
    public const int MaxUnstartedRefunds = 2;

    /// <summary>Gives leased jobs back without spending an attempt: each becomes ready at the head of its priority (used at shutdown).</summary>
    /// <param name="leases">The leases; 1 to <see cref="JobQueueOptions.MaxBatchSize"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>One result per lease, in order.</returns>
    ValueTask<IReadOnlyList<LeaseResult>> ReleaseManyAsync(IReadOnlyList<JobLease> leases, CancellationToken cancellationToken = default);

    /// <summary>Saves a checkpoint on a leased job; later attempts see it in <see cref="Job.Checkpoint"/>.</summary>
    /// <param name="lease">The lease from the fetch.</param>
    /// <param name="checkpoint">The checkpoint; at most <see cref="JobQueueOptions.MaxPayloadBytes"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see cref="LeaseResult.Succeeded"/>, or <see cref="LeaseResult.LeaseLost"/> with nothing changed.</returns>
    ValueTask<LeaseResult> SaveCheckpointAsync(JobLease lease, ReadOnlyMemory<byte> checkpoint, CancellationToken cancellationToken = default);

    /// <summary>
    /// Waits until jobs may be fetchable (the queue is not paused and a job became ready or a delayed job fell due) or
    /// <paramref name="maxWait"/> passes. Lets idle consumers sleep without blocking a connection. A backend that is
    /// signalled across processes can miss a signal (for example across a reconnect), so callers poll at least every
    /// <paramref name="maxWait"/>; a <see langword="true"/> is a hint, and a fetch after it may still find nothing.
    /// </summary>
    /// <param name="maxWait">The longest wait; zero to <see cref="JobQueueOptions.MaxWait"/>.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns><see langword="true"/> when jobs may be ready; <see langword="false"/> when the wait timed out.</returns>
    ValueTask<bool> WaitForJobsAsync(TimeSpan maxWait, CancellationToken cancellationToken = default);
}
