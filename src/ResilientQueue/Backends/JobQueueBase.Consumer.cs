using ResilientQueue.Leases;
using ResilientQueue.Transitions;

namespace ResilientQueue.Backends;

public abstract partial class JobQueueBase
{
    /// <inheritdoc />
    public ValueTask<IReadOnlyList<LeasedJob>> FetchAsync(int maxCount, TimeSpan leaseDuration, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        leaseDuration = JobArguments.Fetch(maxCount, leaseDuration);
        DateTimeOffset now = Now();
        return FetchCoreAsync(maxCount, now, now + leaseDuration, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<LeaseResult>> AckManyAsync(IReadOnlyList<JobLease> leases, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        JobArguments.Leases(leases);
        IReadOnlyList<bool> applied = await AckCoreAsync(leases, Now(), cancellationToken).ConfigureAwait(false);
        SignalAcknowledged(leases, applied);
        return ToLeaseResults(applied);
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<FailResult>> FailManyAsync(IReadOnlyList<JobFailure> failures, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        JobArguments.Failures(failures);
        DateTimeOffset now = Now();
        var transitions = new LeaseTransition[failures.Count];
        for (int i = 0; i < transitions.Length; i++)
        {
            transitions[i] = new LeaseTransition(failures[i].Lease, JobTransitions.Fail(failures[i], now));
        }

        TransitionBatchResult applied = await ApplyAsync(transitions, now, cancellationToken).ConfigureAwait(false);
        var results = new FailResult[transitions.Length];
        for (int i = 0; i < results.Length; i++)
        {
            results[i] = JobTransitions.ResultOf(transitions[i].Transition, applied.Applied[i]);
        }

        return results;
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<LeaseResult>> RenewManyAsync(IReadOnlyList<JobLease> leases, TimeSpan leaseDuration, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        JobArguments.Leases(leases);
        leaseDuration = JobArguments.LeaseDuration(leaseDuration);
        return ToLeaseResults(await RenewCoreAsync(leases, Now() + leaseDuration, cancellationToken).ConfigureAwait(false));
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<LeaseResult>> MarkStartedManyAsync(IReadOnlyList<JobLease> leases, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        JobArguments.Leases(leases);
        return ToLeaseResults(await MarkStartedCoreAsync(leases, cancellationToken).ConfigureAwait(false));
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<LeaseResult>> ReleaseManyAsync(IReadOnlyList<JobLease> leases, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        JobArguments.Leases(leases);
        DateTimeOffset now = Now();
        JobTransition release = JobTransitions.Release(now);
        var transitions = new LeaseTransition[leases.Count];
        for (int i = 0; i < transitions.Length; i++)
        {
            transitions[i] = new LeaseTransition(leases[i], release);
        }

        return ToLeaseResults((await ApplyAsync(transitions, now, cancellationToken).ConfigureAwait(false)).Applied);
    }

    /// <inheritdoc />
    public async ValueTask<LeaseResult> SaveCheckpointAsync(JobLease lease, ReadOnlyMemory<byte> checkpoint, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        JobArguments.Lease(lease);
        if (checkpoint.Length > Options.MaxPayloadBytes)
        {
            throw new PayloadTooLargeException(Name, checkpoint.Length, Options.MaxPayloadBytes);
        }

        return LeaseResult.From(await SaveCheckpointCoreAsync(lease, checkpoint, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// Leases up to <paramref name="maxCount"/> ready jobs in one atomic step, highest priority first and FIFO within a
    /// priority, after making due delayed jobs ready (at most <see cref="JobQueueOptions.MaxStepWork"/>). Nothing when the
    /// queue is paused. Each leased job's attempt count goes up by one and it gets a new fencing token, unique per fetch
    /// of the queue (a job fetched twice by one consumer gets two tokens), stored with it; its lease runs out at
    /// <paramref name="leaseExpiresAt"/>.
    /// </summary>
    /// <param name="maxCount">The most jobs; 1 to <see cref="JobQueueOptions.MaxBatchSize"/>.</param>
    /// <param name="now">Now: due delayed jobs are those due at or before it.</param>
    /// <param name="leaseExpiresAt">The leases' deadline.</param>
    /// <param name="cancellationToken">Cancels the step before it starts.</param>
    /// <returns>The leased jobs (snapshots in <see cref="JobState.Active"/>, attempts including this fetch), with leases carrying the job's attempt count and max attempts.</returns>
    protected abstract ValueTask<IReadOnlyList<LeasedJob>> FetchCoreAsync(int maxCount, DateTimeOffset now, DateTimeOffset leaseExpiresAt, CancellationToken cancellationToken);

    /// <summary>
    /// Completes leased jobs in one atomic step, each only if its lease is current (same token, same attempt count): the
    /// job leaves the active set and is removed, or kept as completed while it is among the newest
    /// <see cref="JobQueueOptions.CompletedRetention"/>.
    /// </summary>
    /// <param name="leases">The leases; 1 to <see cref="JobQueueOptions.MaxBatchSize"/>.</param>
    /// <param name="now">Now: the completion time.</param>
    /// <param name="cancellationToken">Cancels the step before it starts.</param>
    /// <returns>Per lease, in order: whether it was current and the job was completed.</returns>
    protected abstract ValueTask<IReadOnlyList<bool>> AckCoreAsync(IReadOnlyList<JobLease> leases, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Applies decided transitions to leased jobs in one atomic step, each only if its lease is current (same token,
    /// same attempt count) and, when <see cref="LeaseTransition.OnlyIfExpiredBy"/> is set, its lease deadline is at or
    /// before that time. Applying one: record <see cref="JobTransition.Failure"/> if set (last error, its category, and
    /// the failure history: the first failure and the most recent, at most <see cref="Job.MaxFailureHistory"/>, with the
    /// lease's attempt number), end the lease, change the attempt count as <see cref="JobTransition.Attempts"/> says, and
    /// move the job to <see cref="JobTransition.Destination"/>; a job moved to the dead-letter store is kept there within
    /// the store's bounds, which may trim the oldest entries (reported, never silently).
    /// </summary>
    /// <param name="transitions">The transitions; 1 to <see cref="JobQueueOptions.MaxBatchSize"/>.</param>
    /// <param name="now">Now: the time of the failure records and of the dead-letter entries.</param>
    /// <param name="cancellationToken">Cancels the step before it starts.</param>
    /// <returns>Which were applied, and the dead-letter entries trimmed.</returns>
    protected abstract ValueTask<TransitionBatchResult> ApplyCoreAsync(IReadOnlyList<LeaseTransition> transitions, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Moves the deadlines of current leases to <paramref name="leaseExpiresAt"/> in one atomic step.</summary>
    /// <param name="leases">The leases; 1 to <see cref="JobQueueOptions.MaxBatchSize"/>.</param>
    /// <param name="leaseExpiresAt">The new deadline.</param>
    /// <param name="cancellationToken">Cancels the step before it starts.</param>
    /// <returns>Per lease, in order: whether it was current and was extended.</returns>
    protected abstract ValueTask<IReadOnlyList<bool>> RenewCoreAsync(IReadOnlyList<JobLease> leases, DateTimeOffset leaseExpiresAt, CancellationToken cancellationToken);

    /// <summary>
    /// Records, for each current lease, that its handler has started (with the lease's token: a mark of an earlier lease
    /// never counts for a later one), in one atomic step; <see cref="FindExpiredCoreAsync"/> reports it as
    /// <see cref="ExpiredLease.HandlerStarted"/>. A transition or an ack of the lease removes the mark.
    /// </summary>
    /// <param name="leases">The leases; 1 to <see cref="JobQueueOptions.MaxBatchSize"/>.</param>
    /// <param name="cancellationToken">Cancels the step before it starts.</param>
    /// <returns>Per lease, in order: whether it was current and was marked.</returns>
    protected abstract ValueTask<IReadOnlyList<bool>> MarkStartedCoreAsync(IReadOnlyList<JobLease> leases, CancellationToken cancellationToken);

    /// <summary>Stores a checkpoint on a job whose lease is current, replacing any earlier one, in one atomic step.</summary>
    /// <param name="lease">The lease.</param>
    /// <param name="checkpoint">The checkpoint (size already checked).</param>
    /// <param name="cancellationToken">Cancels the step before it starts.</param>
    /// <returns>Whether the lease was current and the checkpoint stored.</returns>
    protected abstract ValueTask<bool> SaveCheckpointCoreAsync(JobLease lease, ReadOnlyMemory<byte> checkpoint, CancellationToken cancellationToken);

    private async ValueTask<TransitionBatchResult> ApplyAsync(IReadOnlyList<LeaseTransition> transitions, DateTimeOffset now, CancellationToken cancellationToken)
    {
        TransitionBatchResult result = await ApplyCoreAsync(transitions, now, cancellationToken).ConfigureAwait(false);
        ReportTrims(result.Trimmed);
        SignalEndedJobs(transitions, result.Applied);
        return result;
    }

    private static LeaseResult[] ToLeaseResults(IReadOnlyList<bool> applied)
    {
        var results = new LeaseResult[applied.Count];
        for (int i = 0; i < results.Length; i++)
        {
            results[i] = LeaseResult.From(applied[i]);
        }

        return results;
    }
}
