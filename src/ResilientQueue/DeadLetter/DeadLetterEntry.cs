using ResilientQueue.Errors;

namespace ResilientQueue.DeadLetter;

/// <summary>A job in the dead-letter store, with why and when it got there.</summary>
public sealed class DeadLetterEntry
{
    /// <summary>Creates an entry.</summary>
    /// <param name="job">The job, with its failure history.</param>
    /// <param name="deadLetteredAt">When it was dead-lettered.</param>
    /// <param name="reason">Why.</param>
    /// <param name="category">The category of the failure that dead-lettered it.</param>
    public DeadLetterEntry(Job job, DateTimeOffset deadLetteredAt, string reason, ErrorCategory category)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(reason);
        Job = job;
        DeadLetteredAt = deadLetteredAt;
        Reason = reason;
        Category = category;
    }

    /// <summary>The job, with its failure history (<see cref="Job.Failures"/>) and original queue (<see cref="Job.Queue"/>).</summary>
    public Job Job { get; }

    /// <summary>When it was dead-lettered.</summary>
    public DateTimeOffset DeadLetteredAt { get; }

    /// <summary>Why it was dead-lettered.</summary>
    public string Reason { get; }

    /// <summary>The category of the failure that dead-lettered it.</summary>
    public ErrorCategory Category { get; }
}
