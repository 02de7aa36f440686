namespace ResilientQueue.DeadLetter;

/// <summary>How many entries a bulk requeue moved, and how many it found already gone.</summary>
/// <param name="Requeued">Entries this call moved back to ready.</param>
/// <param name="NotDeadLettered">Entries another caller requeued first.</param>
/// <param name="NotFound">Entries purged or trimmed meanwhile.</param>
public readonly record struct RequeueSummary(int Requeued, int NotDeadLettered, int NotFound);

/// <summary>Bulk operations over an <see cref="IDeadLetterStore"/>.</summary>
public static class DeadLetterStoreExtensions
{
    /// <summary>
    /// Requeues every entry matching <paramref name="filter"/> (category, age), newest first, each with its own atomic
    /// <see cref="IDeadLetterStore.RequeueAsync"/>: an entry is requeued exactly once even with other callers at work.
    /// </summary>
    /// <param name="store">The store.</param>
    /// <param name="filter">Which entries; <see langword="null"/> for all. Its <see cref="DeadLetterQuery.Limit"/> is the page size and its cursor is ignored.</param>
    /// <param name="resetAttempts">Whether each job gets all its attempts again.</param>
    /// <param name="maxEntries">The most entries to requeue; from 1 to 1,000,000.</param>
    /// <param name="cancellationToken">Cancels between entries; what was requeued stays requeued.</param>
    /// <returns>The counts.</returns>
    /// <exception cref="Backpressure.QueueFullException">The queue filled up; the entries not yet requeued stay in the store.</exception>
    public static async ValueTask<RequeueSummary> RequeueManyAsync(this IDeadLetterStore store, DeadLetterQuery? filter = null, bool resetAttempts = false, int maxEntries = 100_000, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEntries, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxEntries, 1_000_000);
        var page = new DeadLetterQuery
        {
            Limit = filter?.Limit ?? DeadLetterQuery.MaxLimit,
            Category = filter?.Category,
            OlderThan = filter?.OlderThan,
        };
        int requeued = 0, notDead = 0, notFound = 0, seen = 0;
        do
        {
            DeadLetterPage result = await store.ListAsync(page, cancellationToken).ConfigureAwait(false);
            foreach (DeadLetterEntry entry in result.Entries)
            {
                if (seen++ == maxEntries)
                {
                    return new RequeueSummary(requeued, notDead, notFound);
                }

                cancellationToken.ThrowIfCancellationRequested();
                switch ((await store.RequeueAsync(entry.Job.Id, resetAttempts, cancellationToken).ConfigureAwait(false)).Outcome)
                {
                    case RequeueOutcome.Requeued: requeued++; break;
                    case RequeueOutcome.NotDeadLettered: notDead++; break;
                    default: notFound++; break;
                }
            }

            page.Cursor = result.NextCursor;
        }
        while (page.Cursor is not null);

        return new RequeueSummary(requeued, notDead, notFound);
    }
}
