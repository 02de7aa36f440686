using ResilientQueue.Errors;

namespace ResilientQueue;

/// <summary>
/// A snapshot of a job's envelope as the backend held it when it was read: payload, attempts, state, errors and trace
/// context. Changing the queue does not change a snapshot already read.
/// </summary>
public sealed class Job
{
    /// <summary>The most failures kept in <see cref="Failures"/>: the first, and the most recent after it.</summary>
    public const int MaxFailureHistory = 10;

    /// <summary>The job's id: time-ordered (a version 7 GUID in hex), unique within its queue.</summary>
    public required string Id { get; init; }

    /// <summary>The queue the job belongs to.</summary>
    public required string Queue { get; init; }

    /// <summary>The serialized payload.</summary>
    public required ReadOnlyMemory<byte> Payload { get; init; }

    /// <summary>The job's state when the snapshot was taken.</summary>
    public required JobState State { get; init; }

    /// <summary>The priority, from <see cref="JobPriority.Lowest"/> to <see cref="JobPriority.Highest"/>.</summary>
    public int Priority { get; init; }

    /// <summary>How many times the job has been fetched (attempts are counted at fetch), less attempts given back by releases.</summary>
    public int Attempts { get; init; }

    /// <summary>How many attempts the job may use before it is dead-lettered.</summary>
    public required int MaxAttempts { get; init; }

    /// <summary>When the job was first enqueued.</summary>
    public required DateTimeOffset EnqueuedAt { get; init; }

    /// <summary>When the job became or becomes fetchable (enqueue delay or retry backoff).</summary>
    public required DateTimeOffset AvailableAt { get; init; }

    /// <summary>When the current lease runs out; set only while the job is <see cref="JobState.Active"/>.</summary>
    public DateTimeOffset? LeaseExpiresAt { get; init; }

    /// <summary>The last error, as <c>TypeName: message</c>; <see langword="null"/> if the job never failed.</summary>
    public string? LastError { get; init; }

    /// <summary>The category of <see cref="LastError"/>.</summary>
    public ErrorCategory? LastErrorCategory { get; init; }

    /// <summary>The failures of the job, oldest first: the first failure and the most recent ones, at most <see cref="MaxFailureHistory"/>.</summary>
    public IReadOnlyList<JobFailureRecord> Failures { get; init; } = [];

    /// <summary>The last checkpoint a handler saved, if any; the next attempt sees it.</summary>
    public ReadOnlyMemory<byte>? Checkpoint { get; init; }

    /// <summary>The producer's W3C <c>traceparent</c>, if it sent one.</summary>
    public string? TraceParent { get; init; }

    /// <summary>The correlation id the producer set, if any.</summary>
    public string? CorrelationId { get; init; }

    /// <summary>The idempotency key the producer set, if any.</summary>
    public string? IdempotencyKey { get; init; }
}

/// <summary>One failure of a job.</summary>
/// <param name="At">When it was recorded.</param>
/// <param name="Attempt">The attempt that failed.</param>
/// <param name="Category">The error's category.</param>
/// <param name="Error">The error, as <c>TypeName: message</c>.</param>
public readonly record struct JobFailureRecord(DateTimeOffset At, int Attempt, ErrorCategory Category, string Error);
