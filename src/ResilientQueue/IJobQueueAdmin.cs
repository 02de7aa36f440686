using ResilientQueue.DeadLetter;
using ResilientQueue.Errors;
using ResilientQueue.Reaping;
using ResilientQueue.Results;

namespace ResilientQueue;

/// <summary>
/// Maintaining and operating a queue: look jobs up, read counts, pause and resume, take back expired leases, clear the
/// queue, and its dead-letter store. Used by the reaper, dashboards and the <c>resq</c> CLI.
/// </summary>
public interface IJobQueueAdmin
{
    /// <summary>The queue's name (see <see cref="QueueNames"/>).</summary>
    string Name { get; }

    /// <summary>The queue's dead-letter store.</summary>
    IDeadLetterStore DeadLetters { get; }

    /// <summary>Reads one job in any state.</summary>
    /// <param name="jobId">The job's id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The job, or <see langword="null"/> when the queue has no job with that id (never had, or removed).</returns>
    ValueTask<Job?> GetJobAsync(string jobId, CancellationToken cancellationToken = default);

    /// <summary>Reads a job's stored result, without waiting.</summary>
    /// <param name="jobId">The job's id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The result, or <see langword="null"/> when none is kept (the job has not completed, completed without one, or its result expired).</returns>
    ValueTask<JobResult?> GetResultAsync(string jobId, CancellationToken cancellationToken = default);

    /// <summary>Reads the counts by state and the paused flag in one step.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The status.</returns>
    ValueTask<QueueStatus> GetStatusAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads how long the queue's jobs have waited and run, in one bounded step: the oldest ready job's wait and the
    /// fetch time of up to <paramref name="maxActive"/> active jobs. Backends that do not record when a job was
    /// fetched return <see langword="null"/> (the default implementation does).
    /// </summary>
    /// <param name="maxActive">The most active jobs to report; 1 to <see cref="JobQueueOptions.MaxStepWork"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The ages, or <see langword="null"/> when this backend cannot tell them.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxActive"/> is out of range.</exception>
    ValueTask<QueueAges?> GetAgesAsync(int maxActive = JobQueueOptions.MaxStepWork, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult<QueueAges?>(null);

    /// <summary>Pauses fetching: fetches return nothing until <see cref="ResumeAsync"/>. Enqueues are still accepted; leased jobs are unaffected.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the queue is paused.</returns>
    ValueTask PauseAsync(CancellationToken cancellationToken = default);

    /// <summary>Resumes fetching after <see cref="PauseAsync"/>, and wakes waiting consumers.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the queue is resumed.</returns>
    ValueTask ResumeAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes back jobs whose lease ran out (their worker crashed, hung or lost its connection), oldest deadline first,
    /// each atomically: with attempts left the job is made ready at the head of its priority, keeping its attempt
    /// count; with none left it is dead-lettered with <see cref="ErrorCategory.LeaseExpired"/>. Either way the failure
    /// is recorded on the job and its old lease is lost. A job that crashes its worker every time therefore ends in
    /// the dead-letter store after its max attempts. A lease is valid until it is reaped, even past its deadline, and a
    /// lease renewed while the reap runs is left alone.
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

    /// <summary>
    /// Removes every job of the queue in every state (ready, delayed, active, dead and completed), its idempotency keys,
    /// maintenance turns, pause flag and counters: the queue is as new. Workers holding leases on it get
    /// <see cref="Leases.LeaseOutcome.LeaseLost"/>. Runs in bounded atomic steps (at most
    /// <see cref="JobQueueOptions.MaxStepWork"/> jobs each): jobs enqueued while it runs may or may not be removed.
    /// Destructive; there is no undo.
    /// </summary>
    /// <param name="cancellationToken">Cancels between steps; what was removed stays removed.</param>
    /// <returns>How many jobs were removed.</returns>
    ValueTask<long> ClearAsync(CancellationToken cancellationToken = default);
}
