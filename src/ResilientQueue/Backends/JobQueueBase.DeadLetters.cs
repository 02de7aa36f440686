using System.Globalization;
using ResilientQueue.Backpressure;
using ResilientQueue.DeadLetter;
using ResilientQueue.Transitions;

namespace ResilientQueue.Backends;

public abstract partial class JobQueueBase
{
    /// <summary>The most dead-letter entries one listing step looks at: 10,000 (one atomic step must stay short).</summary>
    protected const int DeadLetterScanBudget = 10_000;

    private const char CursorSeparator = '-';

    /// <summary>
    /// Lists dead-letter entries in one step, newest first (by dead-letter time, then id descending), after
    /// <see cref="DeadLetterRange.After"/>, within its time bound and category, looking at no more than
    /// <see cref="DeadLetterRange.ScanBudget"/> entries. <see cref="DeadLetterSlice.Next"/> is the last entry looked at
    /// when the step stopped early (limit reached, budget spent) and older entries may match; <see langword="null"/> otherwise.
    /// </summary>
    /// <param name="range">What to look at.</param>
    /// <param name="cancellationToken">Cancels the step before it starts.</param>
    /// <returns>The entries and where to continue.</returns>
    protected abstract ValueTask<DeadLetterSlice> ListDeadLettersCoreAsync(DeadLetterRange range, CancellationToken cancellationToken);

    /// <summary>Reads one dead-letter entry in one step, or <see langword="null"/> when the job is not in the store.</summary>
    /// <param name="jobId">The id (checked).</param>
    /// <param name="cancellationToken">Cancels the step before it starts.</param>
    /// <returns>The entry.</returns>
    protected abstract ValueTask<DeadLetterEntry?> GetDeadLetterCoreAsync(string jobId, CancellationToken cancellationToken);

    /// <summary>
    /// Moves a dead-lettered job back as <paramref name="transition"/> says (ready at the tail; attempts kept or reset),
    /// in one atomic step, so that of concurrent requeues of one entry exactly one succeeds; its dead-letter fields are
    /// cleared and its failure history kept. Counts against <see cref="JobQueueOptions.Capacity"/>.
    /// </summary>
    /// <param name="jobId">The id (checked).</param>
    /// <param name="transition">What to do with the job (decided by the base).</param>
    /// <param name="cancellationToken">Cancels the step before it starts.</param>
    /// <returns><see cref="RequeueResult.Requeued"/>, <see cref="RequeueResult.NotDeadLettered"/> (the job exists elsewhere) or <see cref="RequeueResult.NotFound"/>.</returns>
    /// <exception cref="QueueFullException">The queue is at capacity; the entry stays in the store.</exception>
    protected abstract ValueTask<RequeueResult> RequeueDeadLetterCoreAsync(string jobId, JobTransition transition, CancellationToken cancellationToken);

    /// <summary>Deletes one dead-letter entry (the job entirely) in one step.</summary>
    /// <param name="jobId">The id (checked).</param>
    /// <param name="cancellationToken">Cancels the step before it starts.</param>
    /// <returns>Whether this call deleted it.</returns>
    protected abstract ValueTask<bool> PurgeDeadLetterCoreAsync(string jobId, CancellationToken cancellationToken);

    /// <summary>Deletes up to <paramref name="maxCount"/> dead-letter entries dead-lettered at or before <paramref name="deadAtOrBefore"/>, oldest first, in one atomic step.</summary>
    /// <param name="deadAtOrBefore">The latest dead-letter time to delete; <see cref="DateTimeOffset.MaxValue"/> for all.</param>
    /// <param name="maxCount">The most entries this step deletes.</param>
    /// <param name="cancellationToken">Cancels the step before it starts.</param>
    /// <returns>How many this step deleted; the base calls again until fewer than <paramref name="maxCount"/>.</returns>
    protected abstract ValueTask<int> PurgeDeadLettersCoreAsync(DateTimeOffset deadAtOrBefore, int maxCount, CancellationToken cancellationToken);

    /// <summary>Counts the dead-letter entries in one step.</summary>
    /// <param name="cancellationToken">Cancels the step before it starts.</param>
    /// <returns>The count.</returns>
    protected abstract ValueTask<long> CountDeadLettersCoreAsync(CancellationToken cancellationToken);

    private static string FormatCursor(DeadLetterCursor cursor) =>
        string.Create(CultureInfo.InvariantCulture, $"{cursor.DeadAt.ToUnixTimeMilliseconds()}{CursorSeparator}{cursor.JobId}");

    private static DeadLetterCursor ParseCursor(string cursor)
    {
        int separator = cursor.IndexOf(CursorSeparator, StringComparison.Ordinal);
        if (separator <= 0
            || separator == cursor.Length - 1
            || !long.TryParse(cursor.AsSpan(0, separator), NumberStyles.None, CultureInfo.InvariantCulture, out long ms)
            || ms > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
        {
            throw new InvalidOptionsException("DeadLetterQuery.Cursor", $"'{cursor}' is not a cursor this store returned.");
        }

        return new DeadLetterCursor(DateTimeOffset.FromUnixTimeMilliseconds(ms), cursor[(separator + 1)..]);
    }

    /// <summary>The dead-letter store of a queue: checks, cursors and bulk purges here, storage steps in the backend.</summary>
    private sealed class DeadLetterStore(JobQueueBase queue) : IDeadLetterStore
    {
        public string QueueName => queue.Name;

        public async ValueTask<DeadLetterPage> ListAsync(DeadLetterQuery? query = null, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            query = JobArguments.DeadLetterQuery(query);
            DeadLetterCursor? after = query.Cursor is null ? null : ParseCursor(query.Cursor);
            DateTimeOffset? bound = query.OlderThan is { } age ? queue.Now() - age : null;
            DeadLetterSlice slice = await queue.ListDeadLettersCoreAsync(new DeadLetterRange(after, bound, query.Category, query.Limit, DeadLetterScanBudget), cancellationToken).ConfigureAwait(false);
            return new DeadLetterPage(slice.Entries, slice.Next is { } next ? FormatCursor(next) : null);
        }

        public ValueTask<DeadLetterEntry?> GetAsync(string jobId, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            JobArguments.JobId(jobId);
            return queue.GetDeadLetterCoreAsync(jobId, cancellationToken);
        }

        public async ValueTask<RequeueResult> RequeueAsync(string jobId, bool resetAttempts = false, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            JobArguments.JobId(jobId);
            RequeueResult result = await queue.RequeueDeadLetterCoreAsync(jobId, JobTransitions.Requeue(resetAttempts, queue.Now()), cancellationToken).ConfigureAwait(false);
            if (result.Outcome == RequeueOutcome.Requeued)
            {
                queue.SignalJobsMayBeReady();
            }

            return result;
        }

        public ValueTask<bool> PurgeAsync(string jobId, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            JobArguments.JobId(jobId);
            return queue.PurgeDeadLetterCoreAsync(jobId, cancellationToken);
        }

        public ValueTask<long> PurgeOlderThanAsync(TimeSpan age, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(age, TimeSpan.Zero);
            return PurgeUpToAsync(queue.Now() - age, cancellationToken);
        }

        public ValueTask<long> PurgeAllAsync(CancellationToken cancellationToken = default) => PurgeUpToAsync(DateTimeOffset.MaxValue, cancellationToken);

        public ValueTask<long> CountAsync(CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return queue.CountDeadLettersCoreAsync(cancellationToken);
        }

        // In steps of at most MaxStepWork entries, each atomic, so no step runs long.
        private async ValueTask<long> PurgeUpToAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
        {
            long purged = 0;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int step = await queue.PurgeDeadLettersCoreAsync(cutoff, JobQueueOptions.MaxStepWork, cancellationToken).ConfigureAwait(false);
                purged += step;
                if (step < JobQueueOptions.MaxStepWork)
                {
                    return purged;
                }
            }
        }
    }
}
