namespace ResilientQueue.DeadLetter;

/// <summary>
/// The dead-letter store of one queue: jobs that used up their attempts or were failed with a dead-letter decision. It is
/// bounded (<see cref="DeadLetterOptions"/>) and never drops silently; listing is paged and capped; requeue is atomic.
/// </summary>
public interface IDeadLetterStore
{
    /// <summary>The queue whose dead letters this store holds.</summary>
    string QueueName { get; }

    /// <summary>Lists a page of entries, newest first.</summary>
    /// <param name="query">The page size, cursor and filters; <see langword="null"/> for the first 100.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The page.</returns>
    /// <exception cref="InvalidOptionsException">The limit is out of range or the cursor is malformed.</exception>
    ValueTask<DeadLetterPage> ListAsync(DeadLetterQuery? query = null, CancellationToken cancellationToken = default);

    /// <summary>Reads one entry.</summary>
    /// <param name="jobId">The job's id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The entry, or <see langword="null"/> when the job is not in the store.</returns>
    ValueTask<DeadLetterEntry?> GetAsync(string jobId, CancellationToken cancellationToken = default);

    /// <summary>Moves a job from the store back to ready, atomically: of concurrent requeues of one entry exactly one succeeds.</summary>
    /// <param name="jobId">The job's id.</param>
    /// <param name="resetAttempts">
    /// <see langword="true"/> to give the job all its attempts again; <see langword="false"/> (the default) keeps its
    /// count, which gives an exhausted job exactly one more attempt.
    /// </param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>What happened; see <see cref="RequeueResult"/>.</returns>
    /// <exception cref="Backpressure.QueueFullException">The queue is at capacity; the entry stays in the store.</exception>
    ValueTask<RequeueResult> RequeueAsync(string jobId, bool resetAttempts = false, CancellationToken cancellationToken = default);

    /// <summary>Deletes one entry.</summary>
    /// <param name="jobId">The job's id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="true"/> if this call deleted it; <see langword="false"/> if it was not in the store.</returns>
    ValueTask<bool> PurgeAsync(string jobId, CancellationToken cancellationToken = default);

    /// <summary>Deletes the entries dead-lettered at least <paramref name="age"/> ago.</summary>
    /// <param name="age">The age; zero or more.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>How many were deleted.</returns>
    ValueTask<long> PurgeOlderThanAsync(TimeSpan age, CancellationToken cancellationToken = default);

    /// <summary>Deletes every entry.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>How many were deleted.</returns>
    ValueTask<long> PurgeAllAsync(CancellationToken cancellationToken = default);

    /// <summary>Counts the entries.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The count.</returns>
    ValueTask<long> CountAsync(CancellationToken cancellationToken = default);
}
