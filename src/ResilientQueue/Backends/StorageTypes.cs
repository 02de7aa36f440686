using ResilientQueue.DeadLetter;
using ResilientQueue.Errors;
using ResilientQueue.Leases;
using ResilientQueue.Transitions;

namespace ResilientQueue.Backends;

/// <summary>
/// A job to store, checked and normalized by <see cref="JobQueueBase"/>: its id assigned, its payload copied, its times
/// in whole milliseconds.
/// </summary>
/// <param name="Id">The job's id (a version 7 GUID in hex), unique within the queue.</param>
/// <param name="Payload">The payload, a copy the backend may keep.</param>
/// <param name="Priority">From <see cref="JobPriority.Lowest"/> to <see cref="JobPriority.Highest"/>.</param>
/// <param name="MaxAttempts">From 1 to 1,000.</param>
/// <param name="EnqueuedAt">Now, when the job is added.</param>
/// <param name="AvailableAt">When it may be fetched: <paramref name="EnqueuedAt"/>, or later for a delayed job.</param>
/// <param name="IdempotencyKey">The producer's key, if any: while it is remembered a second job with it is a duplicate.</param>
/// <param name="CorrelationId">The producer's correlation id, if any.</param>
/// <param name="TraceParent">The producer's W3C traceparent, if any.</param>
public readonly record struct NewJob(
    string Id,
    byte[] Payload,
    int Priority,
    int MaxAttempts,
    DateTimeOffset EnqueuedAt,
    DateTimeOffset AvailableAt,
    string? IdempotencyKey,
    string? CorrelationId,
    string? TraceParent)
{
    /// <summary>Whether the job waits in the delayed set before it is ready.</summary>
    public bool IsDelayed => AvailableAt > EnqueuedAt;
}

/// <summary>A decided transition for one leased job; applied only while the lease is current.</summary>
/// <param name="Lease">The lease the transition was decided for: its token (and attempt) must still be the job's.</param>
/// <param name="Transition">What to do with the job.</param>
/// <param name="OnlyIfExpiredBy">
/// For the reaper: apply only if the lease deadline is at or before this time (a worker that renewed the lease meanwhile
/// keeps it); <see langword="null"/> for no such condition.
/// </param>
public readonly record struct LeaseTransition(JobLease Lease, JobTransition Transition, DateTimeOffset? OnlyIfExpiredBy = null);

/// <summary>A lease that ran out, as the backend holds it, for the reaper to decide on.</summary>
/// <param name="Lease">The lease: job id, current token, deadline, attempts and max attempts.</param>
/// <param name="HandlerStarted">
/// Whether this lease was marked started (<see cref="IJobConsumer.MarkStartedManyAsync"/>). A backend that keeps no marks
/// says <see langword="true"/>: the attempt then counts, as it always did.
/// </param>
/// <param name="UnstartedRefunds">How many times the job already got its attempt back for a lease that ran out unmarked.</param>
public readonly record struct ExpiredLease(JobLease Lease, bool HandlerStarted = true, int UnstartedRefunds = 0);

/// <summary>A dead-letter entry removed by the store's bounds (<see cref="DeadLetterOptions"/>); the base logs and counts each.</summary>
/// <param name="JobId">The job removed.</param>
/// <param name="Bound">Which bound removed it: <c>count</c> or <c>age</c>.</param>
/// <param name="DeadAt">When it had been dead-lettered, if known.</param>
/// <param name="DeadReason">Why it had been dead-lettered, if known.</param>
public readonly record struct DeadLetterTrim(string JobId, string Bound, DateTimeOffset? DeadAt, string? DeadReason);

/// <summary>What a batch of lease transitions did.</summary>
/// <param name="Applied">Per transition, in order: whether it was applied (the lease was current and any condition held).</param>
/// <param name="Trimmed">Dead-letter entries the store's bounds removed while applying them.</param>
public readonly record struct TransitionBatchResult(IReadOnlyList<bool> Applied, IReadOnlyList<DeadLetterTrim> Trimmed);

/// <summary>What a consumer waiting for work needs to know, read in one step.</summary>
/// <param name="Paused">Whether fetching is paused.</param>
/// <param name="HasReady">Whether at least one job is ready.</param>
/// <param name="NextDueAt">When the earliest delayed job falls due, or <see langword="null"/> when none is delayed.</param>
public readonly record struct QueuePeek(bool Paused, bool HasReady, DateTimeOffset? NextDueAt);

/// <summary>A position in the dead-letter store's order (newest first): an entry's dead-letter time and id.</summary>
/// <param name="DeadAt">When the entry was dead-lettered.</param>
/// <param name="JobId">Its job id (ties are ordered by id).</param>
public readonly record struct DeadLetterCursor(DateTimeOffset DeadAt, string JobId);

/// <summary>Which dead-letter entries a listing step looks at, newest first.</summary>
/// <param name="After">Continue after this entry (older than it); <see langword="null"/> to start at the newest.</param>
/// <param name="DeadAtOrBefore">Only entries dead-lettered at or before this time; <see langword="null"/> for no bound.</param>
/// <param name="Category">Only entries of this category; <see langword="null"/> for all.</param>
/// <param name="Limit">The most entries to return; 1 to <see cref="DeadLetterQuery.MaxLimit"/>.</param>
/// <param name="ScanBudget">The most entries to look at (filters skip some): a step stays short, and a page may then be short with a next cursor.</param>
public readonly record struct DeadLetterRange(DeadLetterCursor? After, DateTimeOffset? DeadAtOrBefore, ErrorCategory? Category, int Limit, int ScanBudget);

/// <summary>What a dead-letter listing step found.</summary>
/// <param name="Entries">The entries, newest first.</param>
/// <param name="Next">Where the next step continues, or <see langword="null"/> when nothing older matches.</param>
public readonly record struct DeadLetterSlice(IReadOnlyList<DeadLetterEntry> Entries, DeadLetterCursor? Next);
