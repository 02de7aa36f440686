namespace ResilientQueue.Transitions;

/// <summary>What a failure did with the job.</summary>
public enum FailOutcome
{
    /// <summary>The lease was no longer current; nothing was changed.</summary>
    LeaseLost = 0,

    /// <summary>The job will run again: ready now or delayed until <see cref="FailResult.AvailableAt"/>.</summary>
    Retrying = 1,

    /// <summary>The job was moved to the dead-letter store (see <see cref="FailResult.DeadLetterReason"/>).</summary>
    DeadLettered = 2,

    /// <summary>The job was removed (a skip decision).</summary>
    Removed = 3,
}

/// <summary>What a failure did with the job: the transition that was applied, read back without guessing.</summary>
/// <param name="Outcome">What happened.</param>
/// <param name="AvailableAt">For <see cref="FailOutcome.Retrying"/>: when the job is fetchable again.</param>
/// <param name="AttemptSpent">Whether the failed attempt counts against the job's max attempts.</param>
/// <param name="DeadLetterReason">For <see cref="FailOutcome.DeadLettered"/>: the reason stored with the entry.</param>
public readonly record struct FailResult(FailOutcome Outcome, DateTimeOffset? AvailableAt = null, bool AttemptSpent = false, string? DeadLetterReason = null)
{
    /// <summary>The lease was lost; nothing was changed.</summary>
    public static FailResult LeaseLost { get; } = new(FailOutcome.LeaseLost);

    /// <summary>Whether the failure was applied (the lease was current).</summary>
    public bool IsApplied => Outcome != FailOutcome.LeaseLost;
}
