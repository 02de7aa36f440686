using ResilientQueue.Errors;

namespace ResilientQueue.InMemory;

public sealed partial class InMemoryJobQueue
{
    /// <summary>The mutable state of one job; only touched under the queue's lock.</summary>
    private sealed class Entry
    {
        private List<JobFailureRecord>? _failures;

        public required string Id { get; init; }

        public required byte[] Payload { get; init; }

        public JobState State { get; set; }

        public int Priority { get; init; }

        public int Attempts { get; set; }

        public int MaxAttempts { get; init; }

        public DateTimeOffset EnqueuedAt { get; init; }

        public DateTimeOffset AvailableAt { get; set; }

        public string? Token { get; set; }

        /// <summary>The token of the lease marked started (<see cref="IJobConsumer.MarkStartedManyAsync"/>), if any.</summary>
        public string? StartedToken { get; set; }

        /// <summary>How many times a lease that ran out unmarked gave the attempt back.</summary>
        public int UnstartedRefunds { get; set; }

        public DateTimeOffset? LeaseExpiresAt { get; set; }

        /// <summary>When the current lease was granted (the attempt's fetch); <see langword="null"/> unless active.</summary>
        public DateTimeOffset? LeasedAt { get; set; }

        public string? LastError { get; private set; }

        public ErrorCategory? LastErrorCategory { get; private set; }

        public byte[]? Checkpoint { get; set; }

        public string? IdempotencyKey { get; init; }

        public string? CorrelationId { get; init; }

        public string? TraceParent { get; init; }

        public DateTimeOffset? DeadAt { get; set; }

        public string? DeadReason { get; set; }

        public ErrorCategory DeadCategory { get; set; }

        public void RecordFailure(DateTimeOffset at, JobError error)
        {
            string text = error.ToString();
            LastError = text;
            LastErrorCategory = error.Category;
            _failures ??= [];
            if (_failures.Count == Job.MaxFailureHistory)
            {
                _failures.RemoveAt(1); // keep the first failure and the most recent ones
            }

            _failures.Add(new JobFailureRecord(at, Attempts, error.Category, text));
        }

        public Job Snapshot(string queue) => new()
        {
            Id = Id,
            Queue = queue,
            Payload = Payload,
            State = State,
            Priority = Priority,
            Attempts = Attempts,
            MaxAttempts = MaxAttempts,
            EnqueuedAt = EnqueuedAt,
            AvailableAt = AvailableAt,
            LeaseExpiresAt = LeaseExpiresAt,
            LastError = LastError,
            LastErrorCategory = LastErrorCategory,
            Failures = _failures is null ? [] : _failures.ToArray(),
            Checkpoint = Checkpoint is null ? (ReadOnlyMemory<byte>?)null : Checkpoint,
            TraceParent = TraceParent,
            CorrelationId = CorrelationId,
            IdempotencyKey = IdempotencyKey,
        };
    }

    /// <summary>
    /// Orders entries by a time, then id: <see cref="DeadOrder"/> (dead-letter time: the dead-letter store's listing
    /// order, reversed) and <see cref="LeaseOrder"/> (lease deadline: the reaper's order).
    /// </summary>
    private sealed class EntryOrder(Func<Entry, DateTimeOffset?> time) : IComparer<Entry>
    {
        public int Compare(Entry? x, Entry? y)
        {
            if (ReferenceEquals(x, y))
            {
                return 0;
            }

            if (x is null)
            {
                return -1;
            }

            if (y is null)
            {
                return 1;
            }

            int byTime = Nullable.Compare(time(x), time(y));
            return byTime != 0 ? byTime : string.CompareOrdinal(x.Id, y.Id);
        }
    }

    private static class DeadOrder
    {
        public static readonly EntryOrder Instance = new(e => e.DeadAt);
    }

    private static class LeaseOrder
    {
        public static readonly EntryOrder Instance = new(e => e.LeaseExpiresAt);
    }
}
