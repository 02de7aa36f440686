using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using ResilientQueue.Errors;
using ResilientQueue.Leases;
using ResilientQueue.Recovery;
using ResilientQueue.Telemetry;
using ResilientQueue.Transitions;

namespace ResilientQueue.Processing;

/// <summary>A failure the worker decided, waiting to be written.</summary>
internal sealed record PendingFailure(JobError Error, RecoveryDecision Decision, ErrorCategory Category);

/// <summary>
/// Writes the outcomes of a worker's jobs, group-committed: handlers queue a started mark, an acknowledgement or a
/// decided failure and go on; one loop writes whatever has queued up meanwhile in one
/// <see cref="IJobConsumer.MarkStartedManyAsync"/>, one <see cref="IJobConsumer.AckManyAsync"/> and one
/// <see cref="IJobConsumer.FailManyAsync"/> call (up to <see cref="JobQueueOptions.MaxBatchSize"/> each, the marks sent
/// alongside the acknowledgements), so the calls per job fall as the load grows and no handler waits for a round trip.
/// The mark of a job that is no longer running when its batch goes out is dropped: a fast job costs no mark at all. What was applied is read back and counted
/// (completed, retried, dead-lettered, lease lost). A failed write is tried again twice while the leases last; after that
/// the leases run out and the reaper takes the jobs back (at-least-once).
/// </summary>
internal sealed partial class OutcomeWriter(IJobQueue queue, TimeProvider time, ILogger logger)
{
    private readonly Channel<Written> _outcomes =
        Channel.CreateUnbounded<Written>(new UnboundedChannelOptions { SingleReader = false, AllowSynchronousContinuations = false });

    private readonly KeyValuePair<string, object?> _queueTag = ResilientQueueTelemetry.Queue(queue.Name);
    private readonly SemaphoreSlim _flushing = new(1, 1);

    // One flush's marks, acks, failures and leases, reused from flush to flush (flushes never overlap: _flushing), so a
    // small batch costs no arrays. A list is not touched again until the call that was given it has completed.
    private readonly List<JobLease> _markLeases = [];
    private readonly List<TrackedJob> _marks = [];
    private readonly List<TrackedJob> _acks = [];
    private readonly List<(TrackedJob Job, PendingFailure Failure)> _fails = [];
    private readonly List<JobLease> _ackLeases = [];

    /// <summary>Queues the started mark of a job whose handler starts now.</summary>
    public void Started(TrackedJob job) => _outcomes.Writer.TryWrite(new Written(job, null, IsStartedMark: true));

    /// <summary>Queues the acknowledgement of a job whose handler succeeded.</summary>
    public void Ack(TrackedJob job) => _outcomes.Writer.TryWrite(new Written(job, null, IsStartedMark: false));

    /// <summary>Queues a decided failure.</summary>
    public void Fail(TrackedJob job, PendingFailure failure) => _outcomes.Writer.TryWrite(new Written(job, failure, IsStartedMark: false));

    /// <summary>No more outcomes: <see cref="RunAsync"/> ends once everything queued is written.</summary>
    public void Complete() => _outcomes.Writer.TryComplete();

    /// <summary>Writes outcomes as they come, until <see cref="Complete"/> and everything is written.</summary>
    public async Task RunAsync()
    {
        while (await _outcomes.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            await FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Writes everything queued now, in batches.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        await _flushing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            List<TrackedJob> marks = _marks, acks = _acks;
            List<(TrackedJob Job, PendingFailure Failure)> fails = _fails;
            while (true)
            {
                marks.Clear();
                acks.Clear();
                fails.Clear();
                while (acks.Count < JobQueueOptions.MaxBatchSize && fails.Count < JobQueueOptions.MaxBatchSize && marks.Count < JobQueueOptions.MaxBatchSize
                    && _outcomes.Reader.TryRead(out Written outcome))
                {
                    if (outcome.IsStartedMark)
                    {
                        marks.Add(outcome.Job);
                    }
                    else if (outcome.Failure is null)
                    {
                        acks.Add(outcome.Job);
                    }
                    else
                    {
                        fails.Add((outcome.Job, outcome.Failure));
                    }
                }

                if (acks.Count == 0 && fails.Count == 0 && marks.Count == 0)
                {
                    return;
                }

                // Only jobs still running need their mark: the outcome of the others is written (or on its way).
                marks.RemoveAll(static j => j.State != TrackedJob.Running);
                Task marking = marks.Count > 0 ? MarkStartedAsync(marks, cancellationToken) : Task.CompletedTask;
                try
                {
                    if (acks.Count > 0)
                    {
                        await WriteAcksAsync(acks, cancellationToken).ConfigureAwait(false);
                    }
                }
                finally
                {
                    await marking.ConfigureAwait(false); // before any list is reused: the marks' call reads its leases
                }

                if (fails.Count > 0)
                {
                    await WriteFailuresAsync(fails, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            _marks.Clear(); // no job or lease is kept alive by a reused list between flushes
            _acks.Clear();
            _fails.Clear();
            _markLeases.Clear();
            _ackLeases.Clear();
            _flushing.Release();
        }
    }

    /// <summary>
    /// Best effort: a mark that is not written only means that, should the worker die with the job running, the reaper
    /// gives the attempt back (bounded by <see cref="IJobConsumer.MaxUnstartedRefunds"/>).
    /// </summary>
    private async Task MarkStartedAsync(List<TrackedJob> jobs, CancellationToken cancellationToken)
    {
        int count = jobs.Count;
        try
        {
            await queue.MarkStartedManyAsync(LeasesOf(jobs, _markLeases), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            WorkerLog.MarkStartedFailed(logger, ex, queue.Name, count);
        }
    }

    private async Task WriteAcksAsync(List<TrackedJob> jobs, CancellationToken cancellationToken)
    {
        if (jobs.Exists(static j => j.Result is not null))
        {
            await WriteCompletionsAsync(jobs, cancellationToken).ConfigureAwait(false);
            return;
        }

        List<JobLease> leases = LeasesOf(jobs, _ackLeases);
        IReadOnlyList<LeaseResult>? results = await WriteAsync(() => queue.AckManyAsync(leases, cancellationToken), jobs.Count, cancellationToken).ConfigureAwait(false);
        CountAcks(results);
        foreach (TrackedJob job in jobs)
        {
            job.Finish();
        }
    }

    private static List<JobLease> LeasesOf(List<TrackedJob> jobs, List<JobLease> leases)
    {
        leases.Clear();
        foreach (TrackedJob job in jobs)
        {
            leases.Add(job.Lease);
        }

        return leases;
    }

    private void CountAcks(IReadOnlyList<LeaseResult>? results)
    {
        if (results is not null)
        {
            int completed = 0;
            foreach (LeaseResult result in results)
            {
                completed += result.IsSucceeded ? 1 : 0;
            }

            ResilientQueueTelemetry.Completed.Add(completed, _queueTag);
            if (completed < results.Count)
            {
                ResilientQueueTelemetry.LeaseLost.Add(results.Count - completed, _queueTag);
                WorkerLog.AckLeaseLost(logger, queue.Name, results.Count - completed);
            }
        }
    }

    private async Task WriteFailuresAsync(List<(TrackedJob Job, PendingFailure Failure)> fails, CancellationToken cancellationToken)
    {
        JobFailure[] failures = new JobFailure[fails.Count];
        for (int i = 0; i < failures.Length; i++)
        {
            (TrackedJob job, PendingFailure failure) = fails[i];
            failures[i] = new JobFailure(job.Lease, failure.Error, failure.Decision);
        }

        IReadOnlyList<FailResult>? results = await WriteAsync(() => queue.FailManyAsync(failures, cancellationToken), fails.Count, cancellationToken).ConfigureAwait(false);
        for (int i = 0; i < fails.Count; i++)
        {
            (TrackedJob job, PendingFailure failure) = fails[i];
            if (results is not null)
            {
                Count(job.Job.Job, failure, results[i]);
            }

            job.Finish();
        }
    }

    /// <summary>What the queue applied, read back rather than derived again here.</summary>
    private void Count(Job job, PendingFailure failure, FailResult result)
    {
        var categoryTag = new KeyValuePair<string, object?>(ResilientQueueTelemetry.ErrorCategoryTag, failure.Category.ToString());
        switch (result.Outcome)
        {
            case FailOutcome.LeaseLost:
                ResilientQueueTelemetry.LeaseLost.Add(1, _queueTag);
                WorkerLog.LeaseLost(logger, queue.Name, job.Id, job.Attempts);
                break;
            case FailOutcome.DeadLettered:
                ResilientQueueTelemetry.DeadLettered.Add(1, _queueTag, categoryTag);
                WorkerLog.DeadLettered(logger, queue.Name, job.Id, job.Attempts, failure.Category, result.DeadLetterReason ?? string.Empty);
                break;
            case FailOutcome.Retrying when failure.Decision.Action == RecoveryAction.Abort:
                ResilientQueueTelemetry.Released.Add(1, _queueTag);
                break;
            case FailOutcome.Retrying:
                ResilientQueueTelemetry.Retried.Add(1, _queueTag, categoryTag);
                break;
            case FailOutcome.Removed:
                WorkerLog.Skipped(logger, queue.Name, job.Id, failure.Decision.Reason ?? string.Empty);
                break;
        }
    }

    /// <summary>One batched write, tried up to three times; null when it could not be written.</summary>
    private async Task<TResult?> WriteAsync<TResult>(Func<ValueTask<TResult>> write, int count, CancellationToken cancellationToken)
        where TResult : class
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await write().ConfigureAwait(false);
            }
            catch (Exception ex) when (attempt < 3 && !cancellationToken.IsCancellationRequested)
            {
                WorkerLog.AckFailed(logger, ex, queue.Name, count);
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), time, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // The jobs stay leased; their leases run out and the reaper runs them again (at-least-once).
                WorkerLog.AckFailed(logger, ex, queue.Name, count);
                return null;
            }
        }
    }

    /// <summary>One queued write: a started mark, an acknowledgement (no failure) or a failure.</summary>
    private readonly record struct Written(TrackedJob Job, PendingFailure? Failure, bool IsStartedMark);
}
