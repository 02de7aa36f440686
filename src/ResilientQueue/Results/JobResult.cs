namespace ResilientQueue.Results;

/// <summary>
/// What a job's handler returned, stored with the job when it completed (atomically with its acknowledgement) and
/// kept for <see cref="JobResultOptions.Retention"/>. A snapshot: reading it again after it expired finds nothing.
/// </summary>
public sealed class JobResult
{
    /// <summary>The job's id.</summary>
    public required string JobId { get; init; }

    /// <summary>The queue the job belongs to.</summary>
    public required string Queue { get; init; }

    /// <summary>The serialized result (with the queue's <see cref="Serialization.IJobSerializer"/>, in the hosted worker).</summary>
    public required ReadOnlyMemory<byte> Value { get; init; }

    /// <summary>When the job completed: the time of the acknowledgement that stored the result.</summary>
    public required DateTimeOffset CompletedAt { get; init; }

    /// <summary>When the result expires: <see cref="CompletedAt"/> plus <see cref="JobResultOptions.Retention"/>; from then on it is not found.</summary>
    public required DateTimeOffset ExpiresAt { get; init; }
}
