namespace ResilientQueue;

/// <summary>What an enqueue did.</summary>
public enum EnqueueOutcome
{
    /// <summary>A new job was added.</summary>
    Enqueued = 0,

    /// <summary>The idempotency key was already known: nothing was added, and the result names the job that first used the key.</summary>
    Duplicate = 1,
}

/// <summary>The outcome of one enqueue.</summary>
/// <param name="JobId">The id of the job: the new job, or, for a duplicate, the job that first used the idempotency key.</param>
/// <param name="Outcome">What happened.</param>
public readonly record struct EnqueueResult(string JobId, EnqueueOutcome Outcome)
{
    /// <summary><see langword="true"/> when the idempotency key was already known and nothing was added.</summary>
    public bool Duplicate => Outcome == EnqueueOutcome.Duplicate;
}
