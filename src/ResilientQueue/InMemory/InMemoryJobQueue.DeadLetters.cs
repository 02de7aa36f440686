using System.Globalization;
using ResilientQueue.DeadLetter;

namespace ResilientQueue.InMemory;

public sealed partial class InMemoryJobQueue
{
    private const char CursorSeparator = '-';

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
            query ??= new DeadLetterQuery();
            if (query.Limit is < 1 or > DeadLetterQuery.MaxLimit)
            {
                throw new InvalidOptionsException("DeadLetterQuery.Limit", $"must be from 1 to {DeadLetterQuery.MaxLimit}, was {query.Limit}.");
            }

            if (query.OlderThan < TimeSpan.Zero)
            {
                throw new InvalidOptionsException("DeadLetterQuery.OlderThan", $"cannot be negative, was {query.OlderThan}.");
            }

            Entry? after = query.Cursor is null ? null : ParseCursor(query.Cursor);
            var entries = new List<DeadLetterEntry>(Math.Min(query.Limit, 64));
            string? next = null;
            lock (queue._gate)
            {
                DateTimeOffset? newest = query.OlderThan is { } age ? queue._time.GetUtcNow() - age : null;
                IEnumerable<Entry> candidates = queue._dead.Reverse();
                Entry? last = null;
                foreach (Entry entry in candidates)
                {
                    if (after is not null && DeadOrder.Instance.Compare(entry, after) >= 0)
                    {
                        continue;
                    }

                    if ((query.Category is { } category && entry.DeadCategory != category) || (newest is { } limit && entry.DeadAt > limit))
                    {
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

                entry.AvailableAt = queue._time.GetUtcNow();
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
            cancellationToken.ThrowIfCancellationRequested();
            ArgumentOutOfRangeException.ThrowIfLessThan(age, TimeSpan.Zero);
            long purged = 0;
            lock (queue._gate)
            {
                DateTimeOffset cutoff = queue._time.GetUtcNow() - age;
                while (queue._dead.Min is { } oldest && oldest.DeadAt <= cutoff)
                {
                    queue._dead.Remove(oldest);
                    queue._jobs.Remove(oldest.Id);
                    purged++;
                }
            }

            return ValueTask.FromResult(purged);
        }

        public ValueTask<long> PurgeAllAsync(CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            lock (queue._gate)
            {
                long purged = queue._dead.Count;
                foreach (Entry entry in queue._dead)
                {
                    queue._jobs.Remove(entry.Id);
                }

                queue._dead.Clear();
                return ValueTask.FromResult(purged);
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
