using ResilientQueue.Leases;
using ResilientQueue.Reaping;
using ResilientQueue.Transitions;

namespace ResilientQueue.Backends;

public abstract partial class JobQueueBase
{
    /// <inheritdoc />
    public ValueTask<Job?> GetJobAsync(string jobId, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        JobArguments.JobId(jobId);
        return GetJobCoreAsync(jobId, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<QueueStatus> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return GetStatusCoreAsync(cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<QueueAges?> GetAgesAsync(int maxActive = JobQueueOptions.MaxStepWork, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ArgumentOutOfRangeException.ThrowIfLessThan(maxActive, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxActive, JobQueueOptions.MaxStepWork);
        return GetAgesCoreAsync(maxActive, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask PauseAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return SetPausedCoreAsync(paused: true, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask ResumeAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        await SetPausedCoreAsync(paused: false, cancellationToken).ConfigureAwait(false);
        SignalJobsMayBeReady();
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<ReapedJob>> ReapExpiredAsync(int maxCount, TimeSpan olderThan = default, bool dryRun = false, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        JobArguments.Reap(maxCount, olderThan);
        DateTimeOffset now = Now();
        DateTimeOffset expiredBy = now - JobArguments.CeilingToMilliseconds(olderThan);
        IReadOnlyList<ExpiredLease> expired = await FindExpiredCoreAsync(maxCount, expiredBy, cancellationToken).ConfigureAwait(false);
        if (expired.Count == 0)
        {
            return [];
        }

        var transitions = new LeaseTransition[expired.Count];
        for (int i = 0; i < transitions.Length; i++)
        {
            transitions[i] = new LeaseTransition(expired[i].Lease, JobTransitions.Reap(expired[i], now), expiredBy);
        }

        // A lease renewed, released or completed since it was found is left alone: the apply step checks the token and
        // the deadline again, atomically with the move.
        IReadOnlyList<bool>? applied = dryRun ? null : (await ApplyAsync(transitions, now, cancellationToken).ConfigureAwait(false)).Applied;
        var reaped = new List<ReapedJob>(transitions.Length);
        for (int i = 0; i < transitions.Length; i++)
        {
            if (applied is null || applied[i])
            {
                JobLease lease = transitions[i].Lease;
                reaped.Add(new ReapedJob(lease.JobId, JobTransitions.ReapActionOf(transitions[i].Transition), lease.Attempt, lease.MaxAttempts, lease.ExpiresAt, AttemptRefunded: transitions[i].Transition.Attempts == AttemptChange.RefundUnstarted));
            }
        }

        return reaped;
    }

    /// <inheritdoc />
    public ValueTask<bool> TryClaimTurnAsync(string name, string holder, TimeSpan turn, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        turn = JobArguments.Turn(name, holder, turn);
        DateTimeOffset now = Now();
        return TryClaimTurnCoreAsync(name, holder, now, now + turn, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask<long> ClearAsync(CancellationToken cancellationToken = default)
    {
        long removed = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long step = await ClearCoreAsync(JobQueueOptions.MaxStepWork, cancellationToken).ConfigureAwait(false);
            if (step == 0)
            {
                SignalAllResultWaiters(); // their jobs and results are gone: they find nothing and say so
                return removed;
            }

            removed += step;
        }
    }

    /// <summary>Reads one job in any state in one step, or <see langword="null"/> when the queue has none with that id.</summary>
    /// <param name="jobId">The id (checked).</param>
    /// <param name="cancellationToken">Cancels the step before it starts.</param>
    /// <returns>The job's snapshot.</returns>
    protected abstract ValueTask<Job?> GetJobCoreAsync(string jobId, CancellationToken cancellationToken);

    /// <summary>Reads the counts by state, the paused flag and the dead-letter trims in one step.</summary>
    /// <param name="cancellationToken">Cancels the step before it starts.</param>
    /// <returns>The status.</returns>
    protected abstract ValueTask<QueueStatus> GetStatusCoreAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Reads the oldest ready job's availability time and the fetch time of up to <paramref name="maxActive"/> active
    /// jobs (those whose lease runs out first) in one step. The default returns <see langword="null"/>: the backend does
    /// not record fetch times, and the age gauges and histogram stay silent for its queues.
    /// </summary>
    /// <param name="maxActive">The most active jobs (checked: 1 to <see cref="JobQueueOptions.MaxStepWork"/>).</param>
    /// <param name="cancellationToken">Cancels the step before it starts.</param>
    /// <returns>The ages, or <see langword="null"/>.</returns>
    protected virtual ValueTask<QueueAges?> GetAgesCoreAsync(int maxActive, CancellationToken cancellationToken) =>
        ValueTask.FromResult<QueueAges?>(null);

    /// <summary>Sets or clears the paused flag; resuming also wakes the backend's waiting consumers (the base wakes this process's).</summary>
    /// <param name="paused">The flag.</param>
    /// <param name="cancellationToken">Cancels the step before it starts.</param>
    /// <returns>A task that completes when done.</returns>
    protected abstract ValueTask SetPausedCoreAsync(bool paused, CancellationToken cancellationToken);

    /// <summary>Finds up to <paramref name="maxCount"/> leases whose deadline is at or before <paramref name="expiredBy"/>, oldest deadline first, without changing anything.</summary>
    /// <param name="maxCount">The most; 1 to <see cref="JobQueueOptions.MaxBatchSize"/>.</param>
    /// <param name="expiredBy">The latest deadline to include.</param>
    /// <param name="cancellationToken">Cancels the step before it starts.</param>
    /// <returns>The leases as held: token, deadline, attempt count and max attempts.</returns>
    protected abstract ValueTask<IReadOnlyList<ExpiredLease>> FindExpiredCoreAsync(int maxCount, DateTimeOffset expiredBy, CancellationToken cancellationToken);

    /// <summary>Claims the named turn in one atomic step when nobody holds it or its holder's turn ended at or before <paramref name="now"/>.</summary>
    /// <param name="name">The turn (checked).</param>
    /// <param name="holder">Who claims it.</param>
    /// <param name="now">Now.</param>
    /// <param name="until">When the claimed turn ends.</param>
    /// <param name="cancellationToken">Cancels the step before it starts.</param>
    /// <returns>Whether this call claimed it.</returns>
    protected abstract ValueTask<bool> TryClaimTurnCoreAsync(string name, string holder, DateTimeOffset now, DateTimeOffset until, CancellationToken cancellationToken);

    /// <summary>
    /// Removes up to <paramref name="maxJobs"/> jobs of the queue (any state) in one atomic step; when none is left,
    /// removes what else the queue holds (idempotency keys, turns, the paused flag, counters) and returns 0.
    /// </summary>
    /// <param name="maxJobs">The most jobs this step removes.</param>
    /// <param name="cancellationToken">Cancels the step before it starts.</param>
    /// <returns>How many jobs this step removed; 0 when the queue is now empty and reset.</returns>
    protected abstract ValueTask<long> ClearCoreAsync(int maxJobs, CancellationToken cancellationToken);
}
