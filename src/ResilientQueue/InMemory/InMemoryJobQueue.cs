using System.Globalization;
using Microsoft.Extensions.Logging;
using ResilientQueue.Backends;
using ResilientQueue.Backpressure;
using ResilientQueue.Leases;
using ResilientQueue.Transitions;

namespace ResilientQueue.InMemory;

/// <summary>
/// The embedded job queue: every storage step under one lock, time through a <see cref="TimeProvider"/>. Jobs live in
/// this process only, so they do not survive it; use it for development, tests and single-process apps, and a Redis
/// backend when jobs must outlive the process.
/// </summary>
public sealed partial class InMemoryJobQueue : JobQueueBase
{
    private readonly object _gate = new();
    private readonly Dictionary<string, Entry> _jobs = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry>[] _ready = CreateReadyLists();
    private readonly PriorityQueue<Entry, (long DueTicks, long Sequence)> _delayed = new();
    private readonly SortedSet<Entry> _active = new(LeaseOrder.Instance);
    private readonly SortedSet<Entry> _dead = new(DeadOrder.Instance);
    private readonly Queue<Entry> _completed = new();
    private readonly Dictionary<string, (string JobId, long ExpiresTicks)> _idempotency = new(StringComparer.Ordinal);
    private readonly Queue<(string Key, long ExpiresTicks)> _idempotencyExpiry = new();
    private readonly Dictionary<string, DateTimeOffset> _turns = new(StringComparer.Ordinal);

    private long _readyCount;
    private long _sequence;
    private long _fence;
    private long _deadTrimmed;
    private bool _paused;

    /// <summary>Creates a queue.</summary>
    /// <param name="name">The queue's name (see <see cref="QueueNames"/>).</param>
    /// <param name="options">The queue's options, copied; <see langword="null"/> for the defaults.</param>
    /// <param name="timeProvider">The clock for delays, leases and ages; <see langword="null"/> for <see cref="TimeProvider.System"/>.</param>
    /// <param name="logger">Where dead-letter trims are logged; <see langword="null"/> for none.</param>
    /// <exception cref="ArgumentException">The name is invalid.</exception>
    /// <exception cref="InvalidOptionsException">An option is out of range.</exception>
    public InMemoryJobQueue(string name, JobQueueOptions? options = null, TimeProvider? timeProvider = null, ILogger? logger = null)
        : base(name, options, timeProvider, logger)
    {
    }

    /// <summary>What <see cref="JobQueueOptions.Capacity"/> bounds: ready + delayed + active.</summary>
    private long DepthLocked => _readyCount + _delayed.Count + _active.Count;

    /// <inheritdoc />
    protected override ValueTask<IReadOnlyList<EnqueueResult>> EnqueueCoreAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken)
    {
        var results = new EnqueueResult[jobs.Count];
        lock (_gate)
        {
            PruneIdempotency(jobs[0].EnqueuedAt.UtcTicks);

            // Duplicates first (also within the batch), so the capacity check counts only the new jobs.
            Dictionary<string, int>? firstOfKey = null;
            var duplicateOf = new int[jobs.Count];
            int adding = 0;
            for (int i = 0; i < jobs.Count; i++)
            {
                duplicateOf[i] = -1;
                string? key = jobs[i].IdempotencyKey;
                if (key is not null && _idempotency.TryGetValue(key, out var known))
                {
                    results[i] = new EnqueueResult(known.JobId, EnqueueOutcome.Duplicate);
                    duplicateOf[i] = -2;
                }
                else if (key is not null && (firstOfKey ??= new(StringComparer.Ordinal)).TryGetValue(key, out int first))
                {
                    duplicateOf[i] = first;
                }
                else
                {
                    if (key is not null)
                    {
                        firstOfKey![key] = i;
                    }

                    adding++;
                }
            }

            long depth = DepthLocked;
            if (adding > 0 && depth + adding > Options.Capacity)
            {
                throw new QueueFullException(Name, Options.Capacity, depth, adding);
            }

            for (int i = 0; i < jobs.Count; i++)
            {
                results[i] = duplicateOf[i] switch
                {
                    -1 => new EnqueueResult(Add(jobs[i]).Id, EnqueueOutcome.Enqueued),
                    -2 => results[i],
                    int first => new EnqueueResult(results[first].JobId, EnqueueOutcome.Duplicate),
                };
            }
        }

        return ValueTask.FromResult<IReadOnlyList<EnqueueResult>>(results);
    }

    /// <inheritdoc />
    protected override ValueTask<long> GetDepthCoreAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return ValueTask.FromResult(DepthLocked);
        }
    }

    /// <inheritdoc />
    protected override ValueTask<IReadOnlyList<LeasedJob>> FetchCoreAsync(int maxCount, DateTimeOffset now, DateTimeOffset leaseExpiresAt, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            PromoteDue(now.UtcTicks);
            if (_paused || _readyCount == 0)
            {
                return ValueTask.FromResult<IReadOnlyList<LeasedJob>>([]);
            }

            var leased = new List<LeasedJob>((int)Math.Min(maxCount, _readyCount));
            for (int priority = JobPriority.Highest; priority >= JobPriority.Lowest && leased.Count < maxCount; priority--)
            {
                LinkedList<Entry> list = _ready[priority];
                while (list.First is { } node && leased.Count < maxCount)
                {
                    list.RemoveFirst();
                    _readyCount--;
                    Entry entry = node.Value;
                    entry.State = JobState.Active;
                    entry.Attempts++;
                    entry.Token = (++_fence).ToString(CultureInfo.InvariantCulture);
                    entry.LeaseExpiresAt = leaseExpiresAt;
                    entry.LeasedAt = now;
                    _active.Add(entry); // after LeaseExpiresAt is set: it is the sort key
                    leased.Add(new LeasedJob(entry.Snapshot(Name), new JobLease(entry.Id, entry.Token, leaseExpiresAt, entry.Attempts, entry.MaxAttempts)));
                }
            }

            return ValueTask.FromResult<IReadOnlyList<LeasedJob>>(leased);
        }
    }

    /// <inheritdoc />
    protected override ValueTask<IReadOnlyList<bool>> AckCoreAsync(IReadOnlyList<JobLease> leases, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var applied = new bool[leases.Count];
        lock (_gate)
        {
            for (int i = 0; i < applied.Length; i++)
            {
                if (TryGetLeased(leases[i], out Entry? entry))
                {
                    applied[i] = true;
                    LeaveActive(entry);
                    Complete(entry);
                }
            }
        }

        return ValueTask.FromResult<IReadOnlyList<bool>>(applied);
    }

    /// <inheritdoc />
    protected override ValueTask<TransitionBatchResult> ApplyCoreAsync(IReadOnlyList<LeaseTransition> transitions, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var applied = new bool[transitions.Count];
        List<DeadLetterTrim>? trimmed = null;
        lock (_gate)
        {
            for (int i = 0; i < applied.Length; i++)
            {
                LeaseTransition t = transitions[i];
                if (!TryGetLeased(t.Lease, out Entry? entry) || (t.OnlyIfExpiredBy is { } by && entry.LeaseExpiresAt > by))
                {
                    continue;
                }

                applied[i] = true;
                if (t.Transition.Failure is { } failure)
                {
                    entry.RecordFailure(now, failure);
                }

                LeaveActive(entry);
                Move(entry, t.Transition, now, ref trimmed);
            }
        }

        return ValueTask.FromResult(new TransitionBatchResult(applied, trimmed ?? (IReadOnlyList<DeadLetterTrim>)[]));
    }

    /// <inheritdoc />
    protected override ValueTask<IReadOnlyList<bool>> RenewCoreAsync(IReadOnlyList<JobLease> leases, DateTimeOffset leaseExpiresAt, CancellationToken cancellationToken)
    {
        var applied = new bool[leases.Count];
        lock (_gate)
        {
            for (int i = 0; i < applied.Length; i++)
            {
                if (TryGetLeased(leases[i], out Entry? entry))
                {
                    applied[i] = true;
                    _active.Remove(entry); // the deadline is the sort key: re-insert after changing it
                    entry.LeaseExpiresAt = leaseExpiresAt;
                    _active.Add(entry);
                }
            }
        }

        return ValueTask.FromResult<IReadOnlyList<bool>>(applied);
    }

    /// <inheritdoc />
    protected override ValueTask<IReadOnlyList<bool>> MarkStartedCoreAsync(IReadOnlyList<JobLease> leases, CancellationToken cancellationToken)
    {
        var applied = new bool[leases.Count];
        lock (_gate)
        {
            for (int i = 0; i < applied.Length; i++)
            {
                if (TryGetLeased(leases[i], out Entry? entry))
                {
                    applied[i] = true;
                    entry.StartedToken = entry.Token;
                }
            }
        }

        return ValueTask.FromResult<IReadOnlyList<bool>>(applied);
    }

    /// <inheritdoc />
    protected override ValueTask<bool> SaveCheckpointCoreAsync(JobLease lease, ReadOnlyMemory<byte> checkpoint, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!TryGetLeased(lease, out Entry? entry))
            {
                return ValueTask.FromResult(false);
            }

            entry.Checkpoint = checkpoint.ToArray();
            return ValueTask.FromResult(true);
        }
    }

    // ---- storage, all called under _gate ----

    private Entry Add(in NewJob job)
    {
        var entry = new Entry
        {
            Id = job.Id,
            Payload = job.Payload,
            Priority = job.Priority,
            MaxAttempts = job.MaxAttempts,
            EnqueuedAt = job.EnqueuedAt,
            AvailableAt = job.AvailableAt,
            IdempotencyKey = job.IdempotencyKey,
            CorrelationId = job.CorrelationId,
            TraceParent = job.TraceParent,
        };
        _jobs.Add(entry.Id, entry);
        if (job.IdempotencyKey is not null)
        {
            long expires = (job.EnqueuedAt + Options.IdempotencyWindow).UtcTicks;
            _idempotency[job.IdempotencyKey] = (entry.Id, expires);
            _idempotencyExpiry.Enqueue((job.IdempotencyKey, expires));
        }

        if (job.IsDelayed)
        {
            Delay(entry, entry.AvailableAt);
        }
        else
        {
            MakeReady(entry, atHead: false);
        }

        return entry;
    }

    /// <summary>Moves a job that left the active set (or the dead-letter store) as a decided transition says.</summary>
    private void Move(Entry entry, in JobTransition transition, DateTimeOffset now, ref List<DeadLetterTrim>? trimmed)
    {
        if (transition.Attempts == AttemptChange.RefundUnstarted)
        {
            entry.UnstartedRefunds++;
        }

        entry.Attempts = transition.Attempts switch
        {
            AttemptChange.Refund or AttemptChange.RefundUnstarted => entry.Attempts - 1,
            AttemptChange.Reset => 0,
            _ => entry.Attempts,
        };
        switch (transition.Destination)
        {
            case JobDestination.Ready:
                entry.AvailableAt = transition.AvailableAt;
                MakeReady(entry, transition.AtHead);
                break;
            case JobDestination.Delayed:
                Delay(entry, transition.AvailableAt);
                break;
            case JobDestination.Dead:
                entry.State = JobState.Dead;
                entry.DeadAt = now;
                entry.DeadReason = transition.DeadLetterReason;
                entry.DeadCategory = transition.DeadLetterCategory;
                _dead.Add(entry);
                TrimDead(now, ref trimmed);
                break;
            default:
                _jobs.Remove(entry.Id);
                break;
        }
    }

    private void Complete(Entry entry)
    {
        if (Options.CompletedRetention == 0)
        {
            _jobs.Remove(entry.Id);
            return;
        }

        entry.State = JobState.Completed;
        _completed.Enqueue(entry);
        while (_completed.Count > Options.CompletedRetention)
        {
            _jobs.Remove(_completed.Dequeue().Id);
        }
    }

    private bool TryGetLeased(JobLease lease, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Entry? entry) =>
        _jobs.TryGetValue(lease.JobId, out entry)
        && entry.State == JobState.Active
        && string.Equals(entry.Token, lease.Token, StringComparison.Ordinal)
        && entry.Attempts == lease.Attempt;

    private void LeaveActive(Entry entry)
    {
        _active.Remove(entry); // before LeaseExpiresAt is cleared: it is the sort key
        entry.Token = null;
        entry.StartedToken = null;
        entry.LeaseExpiresAt = null;
        entry.LeasedAt = null;
        SignalRoomMayBeAvailable(); // the depth may fall: producers waiting for room try again (atomically)
    }

    private void MakeReady(Entry entry, bool atHead)
    {
        entry.State = JobState.Ready;
        if (atHead)
        {
            _ready[entry.Priority].AddFirst(entry);
        }
        else
        {
            _ready[entry.Priority].AddLast(entry);
        }

        _readyCount++;
        SignalJobsMayBeReady();
    }

    private void Delay(Entry entry, DateTimeOffset due)
    {
        entry.State = JobState.Delayed;
        entry.AvailableAt = due;
        _delayed.Enqueue(entry, (due.UtcTicks, ++_sequence));
        SignalJobsMayBeReady(); // a waiter may now wake at its due time
    }

    private void PromoteDue(long nowTicks)
    {
        int promoted = 0;
        while (promoted++ < JobQueueOptions.MaxStepWork && _delayed.TryPeek(out Entry? entry, out var due) && due.DueTicks <= nowTicks)
        {
            _delayed.Dequeue();
            MakeReady(entry, atHead: false);
        }
    }

    private void PruneIdempotency(long nowTicks)
    {
        while (_idempotencyExpiry.TryPeek(out var head) && head.ExpiresTicks <= nowTicks)
        {
            _idempotencyExpiry.Dequeue();
            if (_idempotency.TryGetValue(head.Key, out var known) && known.ExpiresTicks == head.ExpiresTicks)
            {
                _idempotency.Remove(head.Key);
            }
        }
    }

    private static LinkedList<Entry>[] CreateReadyLists()
    {
        var lists = new LinkedList<Entry>[JobPriority.Highest + 1];
        for (int i = 0; i < lists.Length; i++)
        {
            lists[i] = new LinkedList<Entry>();
        }

        return lists;
    }
}
