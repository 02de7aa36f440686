using ResilientQueue.Errors;

namespace ResilientQueue.DeadLetter;

/// <summary>One page of a dead-letter listing: newest first, filtered, at most <see cref="MaxLimit"/> entries.</summary>
public sealed class DeadLetterQuery
{
    /// <summary>The largest page: 1,000 entries.</summary>
    public const int MaxLimit = 1000;

    /// <summary>How many entries at most. Default: 100. From 1 to <see cref="MaxLimit"/>.</summary>
    public int Limit { get; set; } = 100;

    /// <summary>Where to continue: the <see cref="DeadLetterPage.NextCursor"/> of the previous page; <see langword="null"/> (the default) starts at the newest.</summary>
    public string? Cursor { get; set; }

    /// <summary>Only entries of this category. Default: all.</summary>
    public ErrorCategory? Category { get; set; }

    /// <summary>Only entries dead-lettered at least this long ago. Default: all.</summary>
    public TimeSpan? OlderThan { get; set; }
}

/// <summary>A page of dead-letter entries.</summary>
/// <param name="Entries">The entries, newest first.</param>
/// <param name="NextCursor">The cursor of the next page, or <see langword="null"/> when this is the last. Stable while entries are added.</param>
public sealed record DeadLetterPage(IReadOnlyList<DeadLetterEntry> Entries, string? NextCursor);

/// <summary>What <see cref="IDeadLetterStore.RequeueAsync"/> found.</summary>
public enum RequeueOutcome
{
    /// <summary>This call moved the job from the dead-letter store to ready. Of concurrent requeues of one entry exactly one gets this.</summary>
    Requeued = 0,

    /// <summary>The job exists but is not in the dead-letter store (another caller requeued it first). Nothing was changed.</summary>
    NotDeadLettered = 1,

    /// <summary>No job with that id exists (never did, purged, or finished and removed). Nothing was changed.</summary>
    NotFound = 2,
}

/// <summary>The outcome of <see cref="IDeadLetterStore.RequeueAsync"/>.</summary>
/// <param name="Outcome">What happened.</param>
public readonly record struct RequeueResult(RequeueOutcome Outcome)
{
    /// <summary>This call moved the job back to ready.</summary>
    public static RequeueResult Requeued { get; } = new(RequeueOutcome.Requeued);

    /// <summary>The job is not in the dead-letter store (requeued by someone else first); nothing was changed.</summary>
    public static RequeueResult NotDeadLettered { get; } = new(RequeueOutcome.NotDeadLettered);

    /// <summary>No job with that id exists; nothing was changed.</summary>
    public static RequeueResult NotFound { get; } = new(RequeueOutcome.NotFound);

    /// <inheritdoc />
    public override string ToString() => Outcome.ToString();
}
