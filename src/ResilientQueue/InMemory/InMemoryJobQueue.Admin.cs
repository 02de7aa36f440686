using ResilientQueue.Backends;
using ResilientQueue.Leases;

namespace ResilientQueue.InMemory;

public sealed partial class InMemoryJobQueue
{
    /// <inheritdoc />
    protected override ValueTask<Job?> GetJobCoreAsync(string jobId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return ValueTask.FromResult(_jobs.TryGetValue(jobId, out Entry? entry) ? entry.Snapshot(Name) : null);
        }
    }

    /// <inheritdoc />
    protected override ValueTask<QueueStatus> GetStatusCoreAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return ValueTask.FromResult(new QueueStatus(_readyCount, _delayed.Count, _active.Count, _dead.Count, _completed.Count, _paused, _deadTrimmed));
        }
    }

    /// <inheritdoc />
    protected override ValueTask<QueueAges?> GetAgesCoreAsync(int maxActive, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            DateTimeOffset? oldestReady = null;
            foreach (LinkedList<Entry> list in _ready)
            {
                if (list.First is { } head && (oldestReady is null || head.Value.AvailableAt < oldestReady))
                {
                    oldestReady = head.Value.AvailableAt;
                }
            }

            var active = new List<DateTimeOffset>(Math.Min(maxActive, _active.Count));
            foreach (Entry entry in _active)
            {
                if (active.Count == maxActive)
                {
                    break;
                }

                active.Add(entry.LeasedAt!.Value);
            }

            return ValueTask.FromResult<QueueAges?>(new QueueAges(oldestReady, active, _active.Count > active.Count));
        }
    }

    /// <inheritdoc />
    protected override ValueTask SetPausedCoreAsync(bool paused, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _paused = paused;
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    protected override ValueTask<QueuePeek> PeekCoreAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            DateTimeOffset? due = _delayed.TryPeek(out _, out var next) ? new DateTimeOffset(next.DueTicks, TimeSpan.Zero) : null;
            return ValueTask.FromResult(new QueuePeek(_paused, _readyCount > 0, due));
        }
    }

    /// <inheritdoc />
    protected override ValueTask<IReadOnlyList<ExpiredLease>> FindExpiredCoreAsync(int maxCount, DateTimeOffset expiredBy, CancellationToken cancellationToken)
    {
        var expired = new List<ExpiredLease>();
        lock (_gate)
        {
            foreach (Entry entry in _active)
            {
                if (entry.LeaseExpiresAt > expiredBy || expired.Count == maxCount)
                {
                    break;
                }

                expired.Add(new ExpiredLease(
                    new JobLease(entry.Id, entry.Token!, entry.LeaseExpiresAt!.Value, entry.Attempts, entry.MaxAttempts),
                    HandlerStarted: entry.StartedToken == entry.Token,
                    entry.UnstartedRefunds));
            }
        }

        return ValueTask.FromResult<IReadOnlyList<ExpiredLease>>(expired);
    }

    /// <inheritdoc />
    protected override ValueTask<bool> TryClaimTurnCoreAsync(string name, string holder, DateTimeOffset now, DateTimeOffset until, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_turns.TryGetValue(name, out DateTimeOffset held) && held > now)
            {
                return ValueTask.FromResult(false);
            }

            _turns[name] = until;
            return ValueTask.FromResult(true);
        }
    }

    /// <inheritdoc />
    protected override ValueTask<long> ClearCoreAsync(int maxJobs, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_jobs.Count > 0)
            {
                // Everything in one step: clearing the collections under the lock is short enough at any size that fits in memory.
                long removed = _jobs.Count;
                _jobs.Clear();
                foreach (LinkedList<Entry> list in _ready)
                {
                    list.Clear();
                }

                _delayed.Clear();
                _active.Clear();
                _dead.Clear();
                _completed.Clear();
                _readyCount = 0;
                SignalRoomMayBeAvailable();
                return ValueTask.FromResult(removed);
            }

            _idempotency.Clear();
            _idempotencyExpiry.Clear();
            _turns.Clear();
            ClearResults();
            _paused = false;
            _deadTrimmed = 0;
            return ValueTask.FromResult(0L);
        }
    }
}
