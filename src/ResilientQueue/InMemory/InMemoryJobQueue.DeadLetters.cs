using System.Globalization;
using ResilientQueue.DeadLetter;

namespace ResilientQueue.InMemory;

public sealed partial class InMemoryJobQueue
{
    private const char CursorSeparator = '-';

    /// <summary>The most entries one listing call looks at: 10,000.</summary>
    private const int ScanBudget = 10_000;

    private DeadLetterEntry ToDeadLetterEntry(Entry entry) =>
        new(entry.Snapshot(Name), entry.DeadAt!.Value, entry.DeadReason ?? string.Empty, entry.DeadCategory);

    private static string ToCursor(Entry entry) =>
        string.Create(CultureInfo.InvariantCulture, $"{entry.DeadAt!.Value.UtcTicks}{CursorSeparator}{entry.Id}");

    private static Entry ParseCursor(string cursor)
    {
        int separator = cursor.IndexOf(CursorSeparator, StringComparison.Ordinal);
        if (separator <= 0
            || !long.TryParse(cursor.AsSpan(0, separator), NumberStyles.None, CultureInfo.InvariantCulture, out long ticks)
            || ticks > DateTimeOffset.MaxValue.UtcTicks
            || separator == cursor.Length - 1)
        {
            throw new InvalidOptionsException("DeadLetterQuery.Cursor", $"'{cursor}' is not a cursor this store returned.");
        }

        return new Entry { Id = cursor[(separator + 1)..], Payload = [], DeadAt = new DateTimeOffset(ticks, TimeSpan.Zero) };
    }

    /// <summary>The dead-letter store of an <see cref="InMemoryJobQueue"/>: a view on the queue's dead jobs, under the queue's lock.</summary>
    private sealed class InMemoryDeadLetterStore(InMemoryJobQueue queue) : IDeadLetterStore
    {
        public string QueueName => queue.Name;

        public ValueTask<DeadLetterPage> ListAsync(DeadLetterQuery? query = null, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            query = JobArguments.DeadLetterQuery(query);

            Entry? after = query.Cursor is null ? null : ParseCursor(query.Cursor);
            var entries = new List<DeadLetterEntry>(Math.Min(query.Limit, 64));
            string? next = null;
            lock (queue._gate)
            {
                // Start at the cursor or the age bound, whichever is older, and walk towards older entries. With a
                // category filter at most ScanBudget entries are looked at per call: a page may then hold fewer than
                // Limit entries and still have a NextCursor (as on Redis, where one script call must stay short).
                Entry? upper = after;
                if (query.OlderThan is { } age)
                {
                    var ageBound = new Entry { Id = "\uffff", Payload = [], DeadAt = JobArguments.Now(queue._time) - age };
                    if (upper is null || DeadOrder.Instance.Compare(ageBound, upper) < 0)
                    {
                        upper = ageBound;
                    }
                }

                IEnumerable<Entry> candidates = queue._dead.Count == 0 ? []
                    : upper is null ? queue._dead.Reverse()
                    : DeadOrder.Instance.Compare(upper, queue._dead.Min) < 0 ? []
                    : queue._dead.GetViewBetween(queue._dead.Min!, upper).Reverse();
                int scanned = 0;
                Entry? last = null;
                foreach (Entry entry in candidates)
                {
                    if (after is not null && DeadOrder.Instance.Compare(entry, after) >= 0)
                    {
                        continue;
                    }

                    if (scanned == ScanBudget)
                    {
                        next = ToCursor(last!);
                        break;
                    }

                    scanned++;
                    if (query.Category is { } category && entry.DeadCategory != category)
                    {
                        last = entry;
                        continue;
                    }

                    if (entries.Count == query.Limit)
                    {
                        next = ToCursor(last!);
                        break;
                    }

                    entries.Add(queue.ToDeadLetterEntry(entry));
                    last = entry;
                }
            }

            return ValueTask.FromResult(new DeadLetterPage(entries, next));
        }

        public ValueTask<DeadLetterEntry?> GetAsync(string jobId, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            JobArguments.JobId(jobId);
            lock (queue._gate)
            {
                return ValueTask.FromResult(queue._jobs.TryGetValue(jobId, out Entry? entry) && entry.State == JobState.Dead ? queue.ToDeadLetterEntry(entry) : null);
            }
        }

        public ValueTask<RequeueResult> RequeueAsync(string jobId, bool resetAttempts = false, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            JobArguments.JobId(jobId);
            lock (queue._gate)
            {
                if (!queue._jobs.TryGetValue(jobId, out Entry? entry))
                {
                    return ValueTask.FromResult(RequeueResult.NotFound);
                }

                if (entry.State != JobState.Dead)
                {
                    return ValueTask.FromResult(RequeueResult.NotDeadLettered);
                }

                queue.EnsureRoom(1);
                queue._dead.Remove(entry);
                entry.DeadAt = null;
                entry.DeadReason = null;
                if (resetAttempts)
                {
                    entry.Attempts = 0;
                }

                entry.AvailableAt = JobArguments.Now(queue._time);
                queue.MakeReady(entry, atHead: false);
            }

            return ValueTask.FromResult(RequeueResult.Requeued);
        }

        public ValueTask<bool> PurgeAsync(string jobId, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            JobArguments.JobId(jobId);
            lock (queue._gate)
            {
                if (!queue._jobs.TryGetValue(jobId, out Entry? entry) || entry.State != JobState.Dead)
                {
                    return ValueTask.FromResult(false);
                }

                queue._dead.Remove(entry);
                queue._jobs.Remove(jobId);
            }

            return ValueTask.FromResult(true);
        }

        public ValueTask<long> PurgeOlderThanAsync(TimeSpan age, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(age, TimeSpan.Zero);
            return PurgeUpToAsync(JobArguments.Now(queue._time) - age, cancellationToken);
        }

        public ValueTask<long> PurgeAllAsync(CancellationToken cancellationToken = default) =>
            PurgeUpToAsync(DateTimeOffset.MaxValue, cancellationToken);

        // Purges in steps of at most MaxStepWork entries, each atomic, so the lock is never held for long.
        private ValueTask<long> PurgeUpToAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
        {
            long purged = 0;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int step = 0;
                lock (queue._gate)
                {
                    while (step < JobQueueOptions.MaxStepWork && queue._dead.Min is { } oldest && oldest.DeadAt <= cutoff)
                    {
                        queue._dead.Remove(oldest);
                        queue._jobs.Remove(oldest.Id);
                        step++;
                    }
                }

                purged += step;
                if (step < JobQueueOptions.MaxStepWork)
                {
                    return ValueTask.FromResult(purged);
                }
            }
        }

        public ValueTask<long> CountAsync(CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            lock (queue._gate)
            {
                return ValueTask.FromResult((long)queue._dead.Count);
            }
        }
    }
}
