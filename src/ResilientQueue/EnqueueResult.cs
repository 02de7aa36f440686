namespace ResilientQueue;

/// <summary>The outcome of one enqueue.</summary>
/// <param name="JobId">The id of the job: the new job, or, for a duplicate, the job that first used the idempotency key.</param>
/// <param name="Duplicate"><see langword="true"/> when the idempotency key was already known and nothing was added.</param>
public readonly record struct EnqueueResult(string JobId, bool Duplicate);
