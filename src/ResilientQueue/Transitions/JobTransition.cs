using ResilientQueue.Errors;

namespace ResilientQueue.Transitions;

/// <summary>Where a transition moves a job.</summary>
public enum JobDestination
{
    /// <summary>Ready to be fetched, at <see cref="JobTransition.AvailableAt"/> (now), at the head or the tail of its priority.</summary>
    Ready = 0,

    /// <summary>Delayed until <see cref="JobTransition.AvailableAt"/>.</summary>
    Delayed = 1,

    /// <summary>The dead-letter store, with <see cref="JobTransition.DeadLetterReason"/> and <see cref="JobTransition.DeadLetterCategory"/>.</summary>
    Dead = 2,

    /// <summary>Removed from the queue.</summary>
    Removed = 3,
}

/// <summary>What a transition does with the job's attempt count.</summary>
public enum AttemptChange
{
    /// <summary>The count stays: the attempt that ended is spent.</summary>
    Keep = 0,

    /// <summary>The count goes down by one: the attempt that ended is given back.</summary>
    Refund = 1,

    /// <summary>The count goes back to zero: the job gets all its attempts again.</summary>
    Reset = 2,

    /// <summary>
    /// The count goes down by one, and the job's count of such refunds (<see cref="Backends.ExpiredLease.UnstartedRefunds"/>)
    /// up by one: a lease that ran out before its handler was marked started.
    /// </summary>
    RefundUnstarted = 3,
}

/// <summary>
/// One decided transition of a job's state machine: where the job goes, with what attempt count, which failure is
/// recorded on it and, for the dead-letter store, why. The core decides every transition (fail, reap, release,
/// requeue) once, in one place; a backend only stores what it is given, atomically, and only while the job's lease (or
/// dead-letter entry) is still the one the transition was decided for.
/// </summary>
/// <param name="Destination">Where the job goes.</param>
/// <param name="AtHead">For <see cref="JobDestination.Ready"/>: at the head of its priority (next to be fetched) rather than the tail.</param>
/// <param name="AvailableAt">When the job becomes fetchable: now for <see cref="JobDestination.Ready"/>, the due time for <see cref="JobDestination.Delayed"/>. Whole milliseconds.</param>
/// <param name="Attempts">What happens to the attempt count.</param>
/// <param name="Failure">The failure to record on the job (last error, category and history), or <see langword="null"/> for none.</param>
/// <param name="DeadLetterReason">For <see cref="JobDestination.Dead"/>: why; stored with the entry.</param>
/// <param name="DeadLetterCategory">For <see cref="JobDestination.Dead"/>: the category of the failure that dead-lettered the job.</param>
public readonly record struct JobTransition(
    JobDestination Destination,
    bool AtHead,
    DateTimeOffset AvailableAt,
    AttemptChange Attempts,
    JobError? Failure,
    string? DeadLetterReason,
    ErrorCategory DeadLetterCategory);
