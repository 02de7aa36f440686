using ResilientQueue.Backends;
using ResilientQueue.DeadLetter;
using ResilientQueue.Transitions;

namespace ResilientQueue.InMemory;

public sealed partial class InMemoryJobQueue
{
    /// <inheritdoc />
    protected override ValueTask<DeadLetterSlice> ListDeadLettersCoreAsync(DeadLetterRange range, CancellationToken cancellationToken)
    {
        var entries = new List<DeadLetterEntry>(Math.Min(range.Limit, 64));
        DeadLetterCursor? next = null;
        lock (_gate)
        {
            // Start at the cursor or the age bound, whichever is older, and walk towards older entries.
            Entry? after = range.After is { } cursor ? new Entry { Id = cursor.JobId, Payload = [], DeadAt = cursor.DeadAt } : null;
            Entry? upper = after;
            if (range.DeadAtOrBefore is { } bound)
            {
                var ageBound = new Entry { Id = "\uffff", Payload = [], DeadAt = bound };
                if (upper is null || DeadOrder.Instance.Compare(ageBound, upper) < 0)
                {
                    upper = ageBound;
                }
            }

            IEnumerable<Entry> candidates = _dead.Count == 0 ? []
                : upper is null ? _dead.Reverse()
                : DeadOrder.Instance.Compare(upper, _dead.Min) < 0 ? []
                : _dead.GetViewBetween(_dead.Min!, upper).Reverse();
            int scanned = 0;
            Entry? last = null;
            foreach (Entry entry in candidates)
            {
                if (after is not null && DeadOrder.Instance.Compare(entry, after) >= 0)
                {
                    continue;
                }

                if (scanned == range.ScanBudget)
                {
                    next = Cursor(last!);
                    break;
                }

                scanned++;
                if (range.Category is { } category && entry.DeadCategory != category)
                {
                    last = entry;
                    continue;
                }

                if (entries.Count == range.Limit)
                {
                    next = Cursor(last!);
                    break;
                }

                entries.Add(ToDeadLetterEntry(entry));
                last = entry;
            }
        }

        return ValueTask.FromResult(new DeadLetterSlice(entries, next));
    }

    /// <inheritdoc />
    protected override ValueTask<DeadLetterEntry?> GetDeadLetterCoreAsync(string jobId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return ValueTask.FromResult(_jobs.TryGetValue(jobId, out Entry? entry) && entry.State == JobState.Dead ? ToDeadLetterEntry(entry) : null);
        }
    }

    /// <inheritdoc />
    protected override ValueTask<RequeueResult> RequeueDeadLetterCoreAsync(string jobId, JobTransition transition, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_jobs.TryGetValue(jobId, out Entry? entry))
            {
                return ValueTask.FromResult(RequeueResult.NotFound);
            }

            if (entry.State != JobState.Dead)
            {
                return ValueTask.FromResult(RequeueResult.NotDeadLettered);
            }

            long depth = DepthLocked;
            if (depth + 1 > Options.Capacity)
            {
                throw new Backpressure.QueueFullException(Name, Options.Capacity, depth, 1);
            }

            _dead.Remove(entry);
            entry.DeadAt = null;
            entry.DeadReason = null;
            List<DeadLetterTrim>? none = null;
            Move(entry, transition, transition.AvailableAt, ref none);
            return ValueTask.FromResult(RequeueResult.Requeued);
        }
    }

    /// <inheritdoc />
    protected override ValueTask<bool> PurgeDeadLetterCoreAsync(string jobId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_jobs.TryGetValue(jobId, out Entry? entry) || entry.State != JobState.Dead)
            {
                return ValueTask.FromResult(false);
            }

            _dead.Remove(entry);
            _jobs.Remove(jobId);
            return ValueTask.FromResult(true);
        }
    }

    /// <inheritdoc />
    protected override ValueTask<int> PurgeDeadLettersCoreAsync(DateTimeOffset deadAtOrBefore, int maxCount, CancellationToken cancellationToken)
    {
        int purged = 0;
        lock (_gate)
        {
            while (purged < maxCount && _dead.Min is { } oldest && oldest.DeadAt <= deadAtOrBefore)
            {
                _dead.Remove(oldest);
                _jobs.Remove(oldest.Id);
                purged++;
            }
        }

        return ValueTask.FromResult(purged);
    }

    /// <inheritdoc />
    protected override ValueTask<long> CountDeadLettersCoreAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return ValueTask.FromResult((long)_dead.Count);
        }
    }

    /// <summary>Keeps the store within its bounds: entries past the age bound first, then the oldest beyond the count, at most <see cref="JobQueueOptions.MaxStepWork"/> of each per step (as on Redis).</summary>
    private void TrimDead(DateTimeOffset now, ref List<DeadLetterTrim>? trimmed)
    {
        DateTimeOffset oldestKept = now - Options.DeadLetter.MaxAge;
        for (int byAge = 0; byAge < JobQueueOptions.MaxStepWork && _dead.Min is { } oldest && oldest.DeadAt < oldestKept; byAge++)
        {
            Trim(oldest, "age", ref trimmed);
        }

        for (int byCount = 0; byCount < JobQueueOptions.MaxStepWork && _dead.Count > Options.DeadLetter.MaxEntries && _dead.Min is { } oldest; byCount++)
        {
            Trim(oldest, "count", ref trimmed);
        }
    }

    private void Trim(Entry entry, string bound, ref List<DeadLetterTrim>? trimmed)
    {
        _dead.Remove(entry);
        _jobs.Remove(entry.Id);
        _deadTrimmed++;
        (trimmed ??= []).Add(new DeadLetterTrim(entry.Id, bound, entry.DeadAt, entry.DeadReason));
    }

    private DeadLetterEntry ToDeadLetterEntry(Entry entry) =>
        new(entry.Snapshot(Name), entry.DeadAt!.Value, entry.DeadReason ?? string.Empty, entry.DeadCategory);

    private static DeadLetterCursor Cursor(Entry entry) => new(entry.DeadAt!.Value, entry.Id);
}
