using ResilientQueue.Leases;
using ResilientQueue.Results;
using ResilientQueue.Telemetry;

namespace ResilientQueue.Backends;

public abstract partial class JobQueueBase
{
    private readonly ResultSignals _resultSignals = new();

    /// <summary>The largest result the queue accepts (<see cref="JobResultOptions.MaxBytes"/>), for the hosted worker's check before it queues a completion.</summary>
    internal int MaxResultBytes => Options.Results.MaxBytes;

    /// <summary>Whether a producer of this process waits for a result of this queue; a backend can skip reading its notifications when none does.</summary>
    protected bool HasResultWaiters => _resultSignals.HasWaiters;

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<LeaseResult>> CompleteManyAsync(IReadOnlyList<JobCompletion> completions, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ResultArguments.Completions(Name, completions, Options.Results.MaxBytes);

        DateTimeOffset now = Now();
        IReadOnlyList<bool> applied = await CompleteCoreAsync(completions, now, now + JobArguments.CeilingToMilliseconds(Options.Results.Retention), cancellationToken).ConfigureAwait(false);
        for (int i = 0; i < applied.Count; i++)
        {
            if (applied[i])
            {
                _resultSignals.Signal(completions[i].Lease.JobId);
            }
        }

        return ToLeaseResults(applied);
    }

    /// <inheritdoc />
    public async ValueTask<JobResult?> GetResultAsync(string jobId, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        JobArguments.JobId(jobId);
        return Kept(await GetResultCoreAsync(jobId, cancellationToken).ConfigureAwait(false));
    }

    /// <inheritdoc />
    public async ValueTask<JobResult> WaitForResultAsync(string jobId, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        JobArguments.JobId(jobId);
        ResultArguments.Timeout(timeout);

        long started = TimeProvider.GetTimestamp();
        string outcome = "error";
        try
        {
            using ResultSignals.Registration waiting = _resultSignals.Register(jobId);

            // Notifications are set up before the first look: a job that completes meanwhile is found by the look, and
            // one that completes after it wakes the wait.
            await EnsureResultWakeUpsCoreAsync(cancellationToken).ConfigureAwait(false);
            while (true)
            {
                Task signal = waiting.Next();
                (JobResult? result, JobState? state) = await LookForResultAsync(jobId, cancellationToken).ConfigureAwait(false);
                if (result is not null)
                {
                    outcome = "result";
                    return result;
                }

                TimeSpan left = timeout - TimeProvider.GetElapsedTime(started);
                if (left <= TimeSpan.Zero)
                {
                    outcome = "timeout";
                    QueueLog.ResultWaitTimedOut(Logger, Name, jobId, timeout.TotalSeconds, state);
                    throw new JobResultTimeoutException(Name, jobId, timeout, state);
                }

                // Woken by the job's completion (or failure), by a reconnect, or at the poll interval; then look again.
                await WhenSignalledAsync(signal, left < Options.Results.PollInterval ? left : Options.Results.PollInterval, cancellationToken).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
        catch (JobFailedException)
        {
            outcome = "failed";
            throw;
        }
        catch (JobResultNotFoundException)
        {
            outcome = "not_found";
            throw;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            outcome = "cancelled";
            throw;
        }
        finally
        {
            ResultTelemetry.RecordWait(Name, outcome, TimeProvider.GetElapsedTime(started));
        }
    }

    /// <summary>
    /// Completes leased jobs and stores their results, in one atomic step: each only if its lease is current (same token,
    /// same attempt count), exactly as <see cref="AckCoreAsync"/> completes it (removed, or kept per
    /// <see cref="JobQueueOptions.CompletedRetention"/>), and its result stored with it, so that a completed job without
    /// its result never exists, not even for a moment. The result is kept until <paramref name="resultExpiresAt"/>
    /// (<see cref="GetResultCoreAsync"/> returns it with that time; the base stops returning it then, so the backend may
    /// drop it then or any time later) and replaces any earlier result of the job. Notifies waiting producers of other
    /// processes, if the backend has any (the base wakes this process's own).
    /// </summary>
    /// <param name="completions">The completions, results within <see cref="JobResultOptions.MaxBytes"/>; 1 to <see cref="JobQueueOptions.MaxBatchSize"/>.</param>
    /// <param name="now">Now: the completion time.</param>
    /// <param name="resultExpiresAt">When the results expire: now plus <see cref="JobResultOptions.Retention"/>.</param>
    /// <param name="cancellationToken">Cancels the step before it starts.</param>
    /// <returns>Per completion, in order: whether its lease was current and the job was completed with its result.</returns>
    protected abstract ValueTask<IReadOnlyList<bool>> CompleteCoreAsync(IReadOnlyList<JobCompletion> completions, DateTimeOffset now, DateTimeOffset resultExpiresAt, CancellationToken cancellationToken);

    /// <summary>Reads a job's stored result in one step, with its completion and expiry times; <see langword="null"/> when none is stored.</summary>
    /// <param name="jobId">The id (checked).</param>
    /// <param name="cancellationToken">Cancels the step before it starts.</param>
    /// <returns>The result as stored (the base checks its expiry against its clock).</returns>
    protected abstract ValueTask<JobResult?> GetResultCoreAsync(string jobId, CancellationToken cancellationToken);

    /// <summary>
    /// Makes sure this process hears when jobs of other processes complete or fail for good (e.g. a pub/sub subscription
    /// that calls <see cref="SignalResultMayBeReady"/>), shared by every waiter of the queue; called before each wait's
    /// first look. The default does nothing (a backend in one process is signalled by the base).
    /// </summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when notifications are set up.</returns>
    protected virtual ValueTask EnsureResultWakeUpsCoreAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>Wakes the producers of this process waiting for the result of <paramref name="jobId"/>: it completed or failed for good. Cheap when nobody waits.</summary>
    /// <param name="jobId">The job.</param>
    protected void SignalResultMayBeReady(string jobId) => _resultSignals.Signal(jobId);

    /// <summary>Wakes every producer of this process waiting for a result of this queue, so each looks again (after a reconnect, when notifications may have been lost).</summary>
    protected void SignalAllResultWaiters() => _resultSignals.SignalAll();

    /// <summary>Jobs acknowledged without a result: their waiters in this process look again (and find none), not only at their next poll.</summary>
    private void SignalAcknowledged(IReadOnlyList<JobLease> leases, IReadOnlyList<bool> applied)
    {
        if (!_resultSignals.HasWaiters)
        {
            return;
        }

        for (int i = 0; i < leases.Count; i++)
        {
            if (applied[i])
            {
                _resultSignals.Signal(leases[i].JobId);
            }
        }
    }

    /// <summary>Jobs that failed for good or were removed by a transition: their waiters look again (they get the failure, or find nothing).</summary>
    private void SignalEndedJobs(IReadOnlyList<LeaseTransition> transitions, IReadOnlyList<bool> applied)
    {
        if (!_resultSignals.HasWaiters)
        {
            return;
        }

        for (int i = 0; i < transitions.Count; i++)
        {
            if (applied[i] && transitions[i].Transition.Destination is Transitions.JobDestination.Dead or Transitions.JobDestination.Removed)
            {
                _resultSignals.Signal(transitions[i].Lease.JobId);
            }
        }
    }

    /// <summary>
    /// One look: the result if it is kept; otherwise the job's state, which says whether to wait (ready, delayed, active)
    /// or stop (dead-lettered: <see cref="JobFailedException"/>; gone or completed without a kept result:
    /// <see cref="JobResultNotFoundException"/>). The result is read again after a job found gone or completed, so a
    /// job that completed between the two reads is not taken for one without a result: its result was stored with its
    /// ack, atomically, before the job was gone.
    /// </summary>
    private async ValueTask<(JobResult? Result, JobState? State)> LookForResultAsync(string jobId, CancellationToken cancellationToken)
    {
        for (int look = 1; ; look++)
        {
            if (Kept(await GetResultCoreAsync(jobId, cancellationToken).ConfigureAwait(false)) is { } result)
            {
                return (result, JobState.Completed);
            }

            Job? job = await GetJobCoreAsync(jobId, cancellationToken).ConfigureAwait(false);
            switch (job?.State)
            {
                case JobState.Ready or JobState.Delayed or JobState.Active:
                    return (null, job!.State);
                case JobState.Dead:
                    if (await GetDeadLetterCoreAsync(jobId, cancellationToken).ConfigureAwait(false) is { } entry)
                    {
                        throw new JobFailedException(entry);
                    }

                    // Requeued (or purged) since the job was read: look again, a few times at most in one look.
                    if (look == 3)
                    {
                        return (null, JobState.Dead);
                    }

                    break;
                default:
                    if (Kept(await GetResultCoreAsync(jobId, cancellationToken).ConfigureAwait(false)) is { } late)
                    {
                        return (late, JobState.Completed);
                    }

                    throw new JobResultNotFoundException(Name, jobId, job?.State);
            }
        }
    }

    /// <summary>The result if it has not expired by the queue's clock.</summary>
    private JobResult? Kept(JobResult? result) => result is not null && result.ExpiresAt > Now() ? result : null;
}
