using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ResilientQueue.Backpressure;
using ResilientQueue.DeadLetter;
using ResilientQueue.Errors;
using ResilientQueue.Recovery;
using ResilientQueue.Telemetry;

namespace ResilientQueue.InMemory;

/// <summary>
/// The embedded job queue: every transition of <see cref="IJobQueue"/> under one lock, time through a
/// <see cref="TimeProvider"/>. Jobs live in this process only, so they do not survive it; use it for development, tests
/// and single-process apps, and a Redis backend when jobs must outlive the process.
/// </summary>
public sealed partial class InMemoryJobQueue : IJobQueue
{
    private readonly object _gate = new();
    private readonly JobQueueOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly InMemoryDeadLetterStore _deadLetters;

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
    private TaskCompletionSource? _signal;
    private TaskCompletionSource? _room;

    /// <summary>Creates a queue.</summary>
    /// <param name="name">The queue's name (see <see cref="QueueNames"/>).</param>
    /// <param name="options">The queue's options, copied; <see langword="null"/> for the defaults.</param>
    /// <param name="timeProvider">The clock for delays, leases and ages; <see langword="null"/> for <see cref="TimeProvider.System"/>.</param>
    /// <param name="logger">Where dead-letter trims are logged; <see langword="null"/> for none.</param>
    /// <exception cref="ArgumentException">The name is invalid.</exception>
    /// <exception cref="InvalidOptionsException">An option is out of range.</exception>
    public InMemoryJobQueue(string name, JobQueueOptions? options = null, TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        QueueNames.ThrowIfInvalid(name);
        Name = name;
        _options = (options ?? new JobQueueOptions()).ValidatedCopy();
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _deadLetters = new InMemoryDeadLetterStore(this);
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public IDeadLetterStore DeadLetters => _deadLetters;

    /// <inheritdoc />
    public ValueTask<EnqueueResult> EnqueueAsync(ReadOnlyMemory<byte> payload, EnqueueOptions? options = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        JobArguments.NormalizedEnqueue job = JobArguments.Enqueue(Name, payload, options, _options);
        return RoomWaiter.RunAsync(Name, JobArguments.FullPolicy(options, _options), () => ValueTask.FromResult(EnqueueOne(job)), WaitForRoomAsync, _time, cancellationToken);
    }

    private EnqueueResult EnqueueOne(in JobArguments.NormalizedEnqueue job)
    {
        lock (_gate)
        {
            DateTimeOffset now = JobArguments.Now(_time);
            PruneIdempotency(now.UtcTicks);
            if (TryFindDuplicate(job.IdempotencyKey, out string? existing))
            {
                return new EnqueueResult(existing, Duplicate: true);
            }

            EnsureRoom(1);
            return new EnqueueResult(Add(job, now).Id, Duplicate: false);
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<EnqueueResult>> EnqueueManyAsync(IReadOnlyList<JobSubmission> jobs, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        JobArguments.NormalizedEnqueue[] normalized = JobArguments.EnqueueMany(Name, jobs, _options);
        return RoomWaiter.RunAsync(Name, JobArguments.FullPolicy(null, _options), () => ValueTask.FromResult(EnqueueBatch(normalized)), WaitForRoomAsync, _time, cancellationToken);
    }

    private IReadOnlyList<EnqueueResult> EnqueueBatch(JobArguments.NormalizedEnqueue[] normalized)
    {
        var results = new EnqueueResult[normalized.Length];
        lock (_gate)
        {
            DateTimeOffset now = JobArguments.Now(_time);
            PruneIdempotency(now.UtcTicks);

            // Work out the duplicates first (also within the batch), so the capacity check counts only new jobs.
            var firstIndexOfKey = new Dictionary<string, int>(StringComparer.Ordinal);
            var duplicateOf = new int[normalized.Length];
            int added = 0;
            for (int i = 0; i < normalized.Length; i++)
            {
                duplicateOf[i] = -1;
                string? key = normalized[i].IdempotencyKey;
                if (TryFindDuplicate(key, out string? existing))
                {
                    results[i] = new EnqueueResult(existing, Duplicate: true);
                    duplicateOf[i] = -2;
                }
                else if (key is not null && firstIndexOfKey.TryGetValue(key, out int first))
                {
                    duplicateOf[i] = first;
                }
                else
                {
                    if (key is not null)
                    {
                        firstIndexOfKey[key] = i;
                    }

                    added++;
                }
            }

            EnsureRoom(added);
            for (int i = 0; i < normalized.Length; i++)
            {
                if (duplicateOf[i] == -1)
                {
                    results[i] = new EnqueueResult(Add(normalized[i], now).Id, Duplicate: false);
                }
                else if (duplicateOf[i] >= 0)
                {
                    results[i] = new EnqueueResult(results[duplicateOf[i]].JobId, Duplicate: true);
                }
            }
        }

        return results;
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<LeasedJob>> FetchAsync(int maxCount, TimeSpan leaseDuration, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        leaseDuration = JobArguments.Fetch(maxCount, leaseDuration);
        List<LeasedJob> leased;
        lock (_gate)
        {
            DateTimeOffset now = JobArguments.Now(_time);
            PromoteDue(now.UtcTicks);
            if (_paused || _readyCount == 0)
            {
                return ValueTask.FromResult<IReadOnlyList<LeasedJob>>([]);
            }

            leased = new List<LeasedJob>((int)Math.Min(maxCount, _readyCount));
            DateTimeOffset expires = now + leaseDuration;
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
                    entry.LeaseExpiresAt = expires;
                    _active.Add(entry); // after LeaseExpiresAt is set: it is the sort key
                    leased.Add(new LeasedJob(entry.Snapshot(Name), new JobLease(entry.Id, entry.Token, expires)));
                }
            }
        }

        return ValueTask.FromResult<IReadOnlyList<LeasedJob>>(leased);
    }

    /// <inheritdoc />
    public ValueTask<LeaseResult> AckAsync(JobLease lease, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        JobArguments.Lease(lease);
        lock (_gate)
        {
            return ValueTask.FromResult(AckLocked(lease));
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<LeaseResult>> AckManyAsync(IReadOnlyList<JobLease> leases, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        JobArguments.Leases(leases);

        var results = new LeaseResult[leases.Count];
        lock (_gate)
        {
            for (int i = 0; i < leases.Count; i++)
            {
                results[i] = AckLocked(leases[i]);
            }
        }

        return ValueTask.FromResult<IReadOnlyList<LeaseResult>>(results);
    }

    /// <inheritdoc />
    public ValueTask<LeaseResult> FailAsync(JobLease lease, JobError error, RecoveryDecision decision, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        JobArguments.Lease(lease);
        JobArguments.Error(error);
        JobArguments.Decision(decision);
        LeaseResult result;
        List<Entry>? trimmed;
        lock (_gate)
        {
            result = FailLocked(new JobFailure(lease, error, decision), out trimmed);
        }

        LogTrims(trimmed);
        return ValueTask.FromResult(result);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<LeaseResult>> FailManyAsync(IReadOnlyList<JobFailure> failures, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        JobArguments.Failures(failures);

        var results = new LeaseResult[failures.Count];
        List<Entry>? allTrimmed = null;
        lock (_gate)
        {
            for (int i = 0; i < failures.Count; i++)
            {
                results[i] = FailLocked(failures[i], out List<Entry>? trimmed);
                if (trimmed is not null)
                {
                    (allTrimmed ??= []).AddRange(trimmed);
                }
            }
        }

        LogTrims(allTrimmed);
        return ValueTask.FromResult<IReadOnlyList<LeaseResult>>(results);
    }

    /// <inheritdoc />
    public ValueTask<LeaseResult> RenewAsync(JobLease lease, TimeSpan leaseDuration, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        JobArguments.Lease(lease);
        leaseDuration = JobArguments.LeaseDuration(leaseDuration);
        lock (_gate)
        {
            if (!TryGetLeased(lease, out Entry? entry))
            {
                return ValueTask.FromResult(LeaseResult.LeaseLost);
            }

            _active.Remove(entry); // the deadline is the sort key: re-insert after changing it
            entry.LeaseExpiresAt = JobArguments.Now(_time) + leaseDuration;
            _active.Add(entry);
            return ValueTask.FromResult(LeaseResult.Succeeded);
        }
    }

    /// <inheritdoc />
    public ValueTask<LeaseResult> ReleaseAsync(JobLease lease, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        JobArguments.Lease(lease);
        lock (_gate)
        {
            if (!TryGetLeased(lease, out Entry? entry))
            {
                return ValueTask.FromResult(LeaseResult.LeaseLost);
            }

            entry.Attempts--;
            LeaveActive(entry);
            entry.AvailableAt = JobArguments.Now(_time);
            MakeReady(entry, atHead: true);
        }

        return ValueTask.FromResult(LeaseResult.Succeeded);
    }

    /// <inheritdoc />
    public ValueTask<LeaseResult> SaveCheckpointAsync(JobLease lease, ReadOnlyMemory<byte> checkpoint, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        JobArguments.Lease(lease);
        if (checkpoint.Length > _options.MaxPayloadBytes)
        {
            throw new PayloadTooLargeException(Name, checkpoint.Length, _options.MaxPayloadBytes);
        }

        lock (_gate)
        {
            if (!TryGetLeased(lease, out Entry? entry))
            {
                return ValueTask.FromResult(LeaseResult.LeaseLost);
            }

            entry.Checkpoint = checkpoint.ToArray();
        }

        return ValueTask.FromResult(LeaseResult.Succeeded);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<ReapedJob>> ReapExpiredAsync(int maxCount, TimeSpan olderThan = default, bool dryRun = false, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        JobArguments.Reap(maxCount, olderThan);
        var reaped = new List<ReapedJob>();
        List<Entry>? allTrimmed = null;
        lock (_gate)
        {
            DateTimeOffset now = JobArguments.Now(_time);
            var expired = new List<Entry>();
            DateTimeOffset expiredBy = now - JobArguments.CeilingToMilliseconds(olderThan);
            foreach (Entry entry in _active)
            {
                if (entry.LeaseExpiresAt > expiredBy || expired.Count == maxCount)
                {
                    break;
                }

                expired.Add(entry);
            }

            foreach (Entry entry in expired)
            {
                DateTimeOffset expiredAt = entry.LeaseExpiresAt!.Value;
                ReapAction action = entry.Attempts < entry.MaxAttempts ? ReapAction.Requeued : ReapAction.DeadLettered;
                reaped.Add(new ReapedJob(entry.Id, action, entry.Attempts, entry.MaxAttempts, expiredAt));
                if (dryRun)
                {
                    continue;
                }

                JobError error = JobArguments.LeaseExpiredError(expiredAt);
                entry.RecordFailure(now, error);
                LeaveActive(entry);
                if (action == ReapAction.Requeued)
                {
                    entry.AvailableAt = now;
                    MakeReady(entry, atHead: true);
                }
                else if (DeadLetterLocked(entry, now, JobArguments.ExhaustedReason(entry.MaxAttempts, error.ToString()), ErrorCategory.LeaseExpired) is { } trimmed)
                {
                    (allTrimmed ??= []).AddRange(trimmed);
                }
            }
        }

        LogTrims(allTrimmed);
        return ValueTask.FromResult<IReadOnlyList<ReapedJob>>(reaped);
    }

    /// <inheritdoc />
    public ValueTask<bool> TryClaimTurnAsync(string name, string holder, TimeSpan turn, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        turn = JobArguments.Turn(name, holder, turn);
        lock (_gate)
        {
            DateTimeOffset now = JobArguments.Now(_time);
            if (_turns.TryGetValue(name, out DateTimeOffset until) && until > now)
            {
                return ValueTask.FromResult(false);
            }

            _turns[name] = now + turn;
            return ValueTask.FromResult(true);
        }
    }

    /// <inheritdoc />
    public ValueTask<Job?> GetJobAsync(string jobId, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        JobArguments.JobId(jobId);
        lock (_gate)
        {
            return ValueTask.FromResult(_jobs.TryGetValue(jobId, out Entry? entry) ? entry.Snapshot(Name) : null);
        }
    }

    /// <inheritdoc />
    public ValueTask<QueueStatus> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return ValueTask.FromResult(new QueueStatus(_readyCount, _delayed.Count, _active.Count, _dead.Count, _completed.Count, _paused, _deadTrimmed));
        }
    }

    /// <inheritdoc />
    public ValueTask<BackpressureSignal> GetBackpressureAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        long depth;
        lock (_gate)
        {
            depth = DepthLocked;
        }

        return ValueTask.FromResult(ResilientQueueTelemetry.RecordBackpressure(Name, BackpressureSignal.From(depth, _options)));
    }

    /// <inheritdoc />
    public ValueTask PauseAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            _paused = true;
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask ResumeAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            _paused = false;
            Signal();
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public async ValueTask<bool> WaitForJobsAsync(TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        JobArguments.MaxWait(maxWait);
        cancellationToken.ThrowIfCancellationRequested();
        DateTimeOffset deadline = _time.GetUtcNow() + maxWait;
        while (true)
        {
            Task signal;
            TimeSpan wait;
            lock (_gate)
            {
                DateTimeOffset now = _time.GetUtcNow();
                bool hasDelayed = _delayed.TryPeek(out _, out var next);
                if (!_paused && (_readyCount > 0 || (hasDelayed && next.DueTicks <= now.UtcTicks)))
                {
                    return true;
                }

                wait = deadline - now;
                if (wait <= TimeSpan.Zero)
                {
                    return false;
                }

                if (!_paused && hasDelayed && TimeSpan.FromTicks(next.DueTicks - now.UtcTicks) < wait)
                {
                    wait = TimeSpan.FromTicks(next.DueTicks - now.UtcTicks);
                }

                signal = (_signal ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }

            // Wake on a signal (a job became ready or delayed, or the queue resumed), when the next delayed job falls
            // due, or at the deadline; then look again under the lock, so a wake-up that made nothing fetchable
            // (a job delayed an hour, a paused queue) does not return true.
            using var delayCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Task delay = Task.Delay(wait, _time, delayCancellation.Token);
            await Task.WhenAny(signal, delay).ConfigureAwait(false);
            await delayCancellation.CancelAsync().ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    // ---- transitions, all called under _gate ----

    private Entry Add(in JobArguments.NormalizedEnqueue job, DateTimeOffset now)
    {
        var entry = new Entry
        {
            Id = Guid.CreateVersion7(now).ToString("N"),
            Payload = job.Payload,
            Priority = job.Priority,
            MaxAttempts = job.MaxAttempts,
            EnqueuedAt = now,
            AvailableAt = now + job.Delay,
            IdempotencyKey = job.IdempotencyKey,
            CorrelationId = job.CorrelationId,
            TraceParent = job.TraceParent,
        };
        _jobs.Add(entry.Id, entry);
        if (job.IdempotencyKey is not null)
        {
            long expires = (now + _options.IdempotencyWindow).UtcTicks;
            _idempotency[job.IdempotencyKey] = (entry.Id, expires);
            _idempotencyExpiry.Enqueue((job.IdempotencyKey, expires));
        }

        if (job.Delay > TimeSpan.Zero)
        {
            Delay(entry, entry.AvailableAt);
        }
        else
        {
            MakeReady(entry, atHead: false);
        }

        return entry;
    }

    private LeaseResult AckLocked(JobLease lease)
    {
        if (!TryGetLeased(lease, out Entry? entry))
        {
            return LeaseResult.LeaseLost;
        }

        LeaveActive(entry);
        if (_options.CompletedRetention == 0)
        {
            _jobs.Remove(entry.Id);
            return LeaseResult.Succeeded;
        }

        entry.State = JobState.Completed;
        _completed.Enqueue(entry);
        while (_completed.Count > _options.CompletedRetention)
        {
            _jobs.Remove(_completed.Dequeue().Id);
        }

        return LeaseResult.Succeeded;
    }

    private LeaseResult FailLocked(in JobFailure failure, out List<Entry>? trimmed)
    {
        trimmed = null;
        if (!TryGetLeased(failure.Lease, out Entry? entry))
        {
            return LeaseResult.LeaseLost;
        }

        DateTimeOffset now = JobArguments.Now(_time);
        entry.RecordFailure(now, failure.Error);
        LeaveActive(entry);
        RecoveryDecision decision = failure.Decision;
        TimeSpan delay = JobArguments.CeilingToMilliseconds(decision.Delay);
        switch (decision.Action)
        {
            case RecoveryAction.Retry when decision.SpendsAttempt && entry.Attempts >= entry.MaxAttempts:
                trimmed = DeadLetterLocked(entry, now, JobArguments.ExhaustedReason(entry.MaxAttempts, failure.Error.ToString()), failure.Error.Category);
                break;
            case RecoveryAction.Retry:
            case RecoveryAction.Pause:
                if (!decision.SpendsAttempt)
                {
                    entry.Attempts--;
                }

                if (delay > TimeSpan.Zero)
                {
                    Delay(entry, now + delay);
                }
                else
                {
                    entry.AvailableAt = now;
                    MakeReady(entry, atHead: false);
                }

                break;
            case RecoveryAction.Abort:
                entry.Attempts--;
                entry.AvailableAt = now;
                MakeReady(entry, atHead: true);
                break;
            case RecoveryAction.DeadLetter:
                trimmed = DeadLetterLocked(entry, now, decision.Reason ?? failure.Error.ToString(), failure.Error.Category);
                break;
            case RecoveryAction.Skip:
                _jobs.Remove(entry.Id);
                break;
        }

        return LeaseResult.Succeeded;
    }

    private List<Entry>? DeadLetterLocked(Entry entry, DateTimeOffset now, string reason, ErrorCategory category)
    {
        entry.State = JobState.Dead;
        entry.DeadAt = now;
        entry.DeadReason = reason;
        entry.DeadCategory = category;
        _dead.Add(entry);
        return TrimDeadLocked(now);
    }

    private List<Entry>? TrimDeadLocked(DateTimeOffset now)
    {
        // Bounded work per step, like the Redis script: at most MaxStepWork entries per bound; the next dead-letter
        // finishes the rest. Entries past the age bound go first, then the oldest beyond the count.
        List<Entry>? trimmed = null;
        DateTimeOffset oldestKept = now - _options.DeadLetter.MaxAge;
        int byAge = 0;
        while (byAge < JobQueueOptions.MaxStepWork && _dead.Min is { } oldest && oldest.DeadAt < oldestKept)
        {
            Trim(oldest, "age");
            byAge++;
        }

        int byCount = 0;
        while (byCount < JobQueueOptions.MaxStepWork && _dead.Count > _options.DeadLetter.MaxEntries && _dead.Min is { } oldest)
        {
            Trim(oldest, "count");
            byCount++;
        }

        return trimmed;

        void Trim(Entry entry, string reason)
        {
            entry.TrimReason = reason;
            _dead.Remove(entry);
            _jobs.Remove(entry.Id);
            _deadTrimmed++;
            (trimmed ??= []).Add(entry);
        }
    }

    private void LogTrims(List<Entry>? trimmed)
    {
        if (trimmed is null)
        {
            return;
        }

        foreach (Entry entry in trimmed)
        {
            QueueLog.DeadLetterTrimmed(_logger, Name, entry.Id, entry.TrimReason!, entry.DeadAt, entry.DeadReason);
            ResilientQueueTelemetry.RecordDeadLetterTrimmed(Name, entry.TrimReason!, 1);
        }
    }

    private bool TryGetLeased(JobLease lease, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Entry? entry) =>
        _jobs.TryGetValue(lease.JobId, out entry) && entry.State == JobState.Active && string.Equals(entry.Token, lease.Token, StringComparison.Ordinal);

    private void LeaveActive(Entry entry)
    {
        // The depth may fall: wake producers waiting for room (they re-check atomically).
        _room?.TrySetResult();
        _room = null;
        _active.Remove(entry); // before LeaseExpiresAt is cleared: it is the sort key
        entry.Token = null;
        entry.LeaseExpiresAt = null;
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
        Signal();
    }

    private void Delay(Entry entry, DateTimeOffset due)
    {
        entry.State = JobState.Delayed;
        entry.AvailableAt = due;
        _delayed.Enqueue(entry, (due.UtcTicks, ++_sequence));
        Signal();
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

    /// <summary>What <see cref="JobQueueOptions.Capacity"/> bounds: ready + delayed + active.</summary>
    private long DepthLocked => _readyCount + _delayed.Count + _active.Count;

    private void EnsureRoom(int adding)
    {
        long depth = DepthLocked;
        if (adding > 0 && depth + adding > _options.Capacity)
        {
            throw new QueueFullException(Name, _options.Capacity, depth, adding);
        }
    }

    private bool TryFindDuplicate(string? key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? jobId)
    {
        if (key is not null && _idempotency.TryGetValue(key, out var known))
        {
            jobId = known.JobId;
            return true;
        }

        jobId = null;
        return false;
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

    private async Task WaitForRoomAsync(TimeSpan maxWait, CancellationToken cancellationToken)
    {
        Task room;
        lock (_gate)
        {
            room = (_room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }

        try
        {
            await room.WaitAsync(maxWait, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The caller tries again either way.
        }
    }

    private void Signal()
    {
        // Only waiters create a signal, so a busy queue with nobody waiting allocates nothing here.
        _signal?.TrySetResult();
        _signal = null;
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
