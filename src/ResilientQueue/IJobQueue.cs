using ResilientQueue.DeadLetter;
using ResilientQueue.Errors;
using ResilientQueue.Recovery;

namespace ResilientQueue;

/// <summary>
/// One job queue. Every method is one atomic transition of the job state machine (ready → active → completed, delayed,
/// dead; dead → ready), safe to call from many threads and processes. Delivery is at-least-once and fenced: a fetch
/// leases jobs with a token, and every later transition of the job checks that token.
/// </summary>
/// <remarks>
/// Bad arguments throw before anything changes: <see cref="ArgumentNullException"/>, <see cref="ArgumentException"/> or
/// <see cref="ArgumentOutOfRangeException"/> naming the argument; <see cref="InvalidOptionsException"/> naming the
/// option; <see cref="PayloadTooLargeException"/>. Expected races are results, not exceptions:
/// <see cref="LeaseResult.LeaseLost"/>, <see cref="EnqueueResult.Duplicate"/>, <see cref="RequeueResult"/>.
/// </remarks>
public interface IJobQueue
{
    /// <summary>The queue's name (see <see cref="QueueNames"/>).</summary>
    string Name { get; }

    /// <summary>The queue's dead-letter store.</summary>
    IDeadLetterStore DeadLetters { get; }

    /// <summary>Adds a job: ready at once, or delayed when <see cref="EnqueueOptions.Delay"/> is set.</summary>
    /// <param name="payload">The serialized payload; at most <see cref="JobQueueOptions.MaxPayloadBytes"/>.</param>
    /// <param name="options">The job's options; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The job's id, or the existing job's id when the idempotency key was known.</returns>
    /// <exception cref="QueueFullException">The queue is at capacity and the enqueue does not wait (<see cref="Backpressure.QueueFullMode.Reject"/>, the default); nothing was added.</exception>
    /// <exception cref="QueueFullTimeoutException">The enqueue waited for room (<see cref="Backpressure.QueueFullMode.Wait"/>) and none appeared within its timeout; nothing was added.</exception>
    /// <exception cref="OperationCanceledException">The call was cancelled, possibly while waiting for room; nothing was added.</exception>
    ValueTask<EnqueueResult> EnqueueAsync(ReadOnlyMemory<byte> payload, EnqueueOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Adds jobs in one atomic step: all are added (duplicates by idempotency key aside) or, at capacity, none.</summary>
    /// <param name="jobs">The jobs; 1 to <see cref="JobQueueOptions.MaxEnqueueBatchSize"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>One result per job, in order.</returns>
    /// <exception cref="QueueFullException">The jobs do not all fit and the queue's <see cref="JobQueueOptions.FullMode"/> is <see cref="Backpressure.QueueFullMode.Reject"/>, or they are more than the whole capacity; nothing was added.</exception>
    /// <exception cref="QueueFullTimeoutException">The queue's <see cref="JobQueueOptions.FullMode"/> is <see cref="Backpressure.QueueFullMode.Wait"/> and room for all of them did not appear in time; nothing was added.</exception>
    ValueTask<IReadOnlyList<EnqueueResult>> EnqueueManyAsync(IReadOnlyList<JobSubmission> jobs, CancellationToken cancellationToken = default);

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

    /// <summary>Marks a leased job completed: removed, or kept per <see cref="JobQueueOptions.CompletedRetention"/>.</summary>
    /// <param name="lease">The lease from the fetch.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see cref="LeaseResult.Succeeded"/>, or <see cref="LeaseResult.LeaseLost"/> with nothing changed.</returns>
    ValueTask<LeaseResult> AckAsync(JobLease lease, CancellationToken cancellationToken = default);

    /// <summary>Acknowledges several leased jobs in one step; each lease is checked on its own.</summary>
    /// <param name="leases">The leases; 1 to <see cref="JobQueueOptions.MaxBatchSize"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>One result per lease, in order.</returns>
    ValueTask<IReadOnlyList<LeaseResult>> AckManyAsync(IReadOnlyList<JobLease> leases, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records a failure of a leased job and applies the decision: <see cref="RecoveryAction.Retry"/> schedules it after
    /// the delay, or dead-letters it when the decision spends its last attempt; <see cref="RecoveryAction.DeadLetter"/>
    /// dead-letters it; <see cref="RecoveryAction.Skip"/> drops it; <see cref="RecoveryAction.Pause"/> schedules it after
    /// the pause without spending an attempt; <see cref="RecoveryAction.Abort"/> makes it ready again, at the head of its
    /// priority, without spending one. Pausing or stopping the consumer itself is the worker's part, not the queue's.
    /// Times are whole milliseconds: a delay is rounded up.
    /// </summary>
    /// <param name="lease">The lease from the fetch.</param>
    /// <param name="error">The error; stored as <c>TypeName: message</c> with its category.</param>
    /// <param name="decision">What to do with the job.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see cref="LeaseResult.Succeeded"/>, or <see cref="LeaseResult.LeaseLost"/> with nothing changed.</returns>
    ValueTask<LeaseResult> FailAsync(JobLease lease, JobError error, RecoveryDecision decision, CancellationToken cancellationToken = default);

    /// <summary>Records several failures in one step; each lease is checked on its own.</summary>
    /// <param name="failures">The failures; 1 to <see cref="JobQueueOptions.MaxBatchSize"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>One result per failure, in order.</returns>
    ValueTask<IReadOnlyList<LeaseResult>> FailManyAsync(IReadOnlyList<JobFailure> failures, CancellationToken cancellationToken = default);

    /// <summary>Extends a lease to <paramref name="leaseDuration"/> from now.</summary>
    /// <param name="lease">The lease from the fetch.</param>
    /// <param name="leaseDuration">The new duration from now; more than zero, at most <see cref="JobQueueOptions.MaxLeaseDuration"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see cref="LeaseResult.Succeeded"/>, or <see cref="LeaseResult.LeaseLost"/>: stop working on the job.</returns>
    ValueTask<LeaseResult> RenewAsync(JobLease lease, TimeSpan leaseDuration, CancellationToken cancellationToken = default);

    /// <summary>Gives a leased job back without spending an attempt: it becomes ready at the head of its priority (used at shutdown).</summary>
    /// <param name="lease">The lease from the fetch.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see cref="LeaseResult.Succeeded"/>, or <see cref="LeaseResult.LeaseLost"/> with nothing changed.</returns>
    ValueTask<LeaseResult> ReleaseAsync(JobLease lease, CancellationToken cancellationToken = default);

    /// <summary>Saves a checkpoint on a leased job; later attempts see it in <see cref="Job.Checkpoint"/>.</summary>
    /// <param name="lease">The lease from the fetch.</param>
    /// <param name="checkpoint">The checkpoint; at most <see cref="JobQueueOptions.MaxPayloadBytes"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see cref="LeaseResult.Succeeded"/>, or <see cref="LeaseResult.LeaseLost"/> with nothing changed.</returns>
    ValueTask<LeaseResult> SaveCheckpointAsync(JobLease lease, ReadOnlyMemory<byte> checkpoint, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes back jobs whose lease ran out (their worker crashed, hung or lost its connection), oldest deadline first,
    /// each atomically: with attempts left the job is made ready at the head of its priority, keeping its attempt
    /// count; with none left it is dead-lettered with <see cref="ErrorCategory.LeaseExpired"/>. Either way the failure
    /// is recorded on the job and its old lease is lost. A job that crashes its worker every time therefore ends in
    /// the dead-letter store after its max attempts. A lease is valid until it is reaped, even past its deadline.
    /// </summary>
    /// <param name="maxCount">The most jobs to take back; 1 to <see cref="JobQueueOptions.MaxBatchSize"/>.</param>
    /// <param name="olderThan">Only leases that ran out at least this long ago; zero (the default) for every expired lease.</param>
    /// <param name="dryRun"><see langword="true"/> to change nothing and return what would be done.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The jobs taken back (or that would be), oldest deadline first.</returns>
    ValueTask<IReadOnlyList<ReapedJob>> ReapExpiredAsync(int maxCount, TimeSpan olderThan = default, bool dryRun = false, CancellationToken cancellationToken = default);

    /// <summary>
    /// Claims a maintenance turn (e.g. the reaper's) for <paramref name="turn"/>, across every process sharing the
    /// queue: of concurrent claims with the same name within one turn exactly one succeeds, and the next claim succeeds
    /// once the turn has passed. Use it so that N processes do not all run the same periodic work.
    /// </summary>
    /// <param name="name">What the turn is for, e.g. <c>reaper</c>: letters, digits, <c>-</c> and <c>_</c>, 1 to 64 characters.</param>
    /// <param name="holder">Who claims it (e.g. machine and process), stored for operators.</param>
    /// <param name="turn">How long the turn lasts; more than zero, at most one day.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="true"/> when this call claimed the turn.</returns>
    ValueTask<bool> TryClaimTurnAsync(string name, string holder, TimeSpan turn, CancellationToken cancellationToken = default);

    /// <summary>Reads one job in any state.</summary>
    /// <param name="jobId">The job's id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The job, or <see langword="null"/> when the queue has no job with that id (never had, or removed).</returns>
    ValueTask<Job?> GetJobAsync(string jobId, CancellationToken cancellationToken = default);

    /// <summary>Reads the counts by state and the paused flag in one step.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The status.</returns>
    ValueTask<QueueStatus> GetStatusAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads how full the queue is (the depth, one step) against its <see cref="JobQueueOptions.Capacity"/> and
    /// <see cref="JobQueueOptions.HighWatermark"/>: a signal producers can act on before they send. A snapshot: the
    /// capacity check of an enqueue is made again, atomically with the enqueue.
    /// </summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The signal.</returns>
    ValueTask<Backpressure.BackpressureSignal> GetBackpressureAsync(CancellationToken cancellationToken = default);

    /// <summary>Pauses fetching: fetches return nothing until <see cref="ResumeAsync"/>. Enqueues are still accepted; leased jobs are unaffected.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the queue is paused.</returns>
    ValueTask PauseAsync(CancellationToken cancellationToken = default);

    /// <summary>Resumes fetching after <see cref="PauseAsync"/>.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the queue is resumed.</returns>
    ValueTask ResumeAsync(CancellationToken cancellationToken = default);

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
