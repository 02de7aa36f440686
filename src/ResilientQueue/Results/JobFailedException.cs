using System.Globalization;
using ResilientQueue.DeadLetter;
using ResilientQueue.Errors;

namespace ResilientQueue.Results;

/// <summary>
/// The job a producer waits for failed for good: it is in the dead-letter store (its attempts ran out, or its failure was
/// not to be retried, e.g. a validation error), so it has no result. The exception carries the error stored with the job
/// (<c>TypeName: message</c>) and its category. A later requeue of the entry runs the job again; wait again for it then.
/// </summary>
public sealed class JobFailedException : ResilientQueueException
{
    /// <summary>Creates the exception from the job's dead-letter entry.</summary>
    /// <param name="entry">The entry, as read when the waiter looked.</param>
    public JobFailedException(DeadLetterEntry entry)
        : base(Describe(entry ?? throw new ArgumentNullException(nameof(entry))))
    {
        QueueName = entry.Job.Queue;
        JobId = entry.Job.Id;
        Error = entry.Job.LastError ?? entry.Reason;
        Category = entry.Job.LastErrorCategory ?? entry.Category;
        Reason = entry.Reason;
        DeadLetteredAt = entry.DeadLetteredAt;
        Attempts = entry.Job.Attempts;
        MaxAttempts = entry.Job.MaxAttempts;
    }

    /// <summary>The job's queue.</summary>
    public string QueueName { get; }

    /// <summary>The job that failed.</summary>
    public string JobId { get; }

    /// <summary>The last error stored with the job, as <c>TypeName: message</c>.</summary>
    public string Error { get; }

    /// <summary>The category of <see cref="Error"/>.</summary>
    public ErrorCategory Category { get; }

    /// <summary>Why the job was dead-lettered, as the dead-letter store holds it.</summary>
    public string Reason { get; }

    /// <summary>When it was dead-lettered.</summary>
    public DateTimeOffset DeadLetteredAt { get; }

    /// <summary>How many attempts the job used.</summary>
    public int Attempts { get; }

    /// <summary>How many attempts it had.</summary>
    public int MaxAttempts { get; }

    private static string Describe(DeadLetterEntry entry)
    {
        Job job = entry.Job;
        string error = job.LastError ?? entry.Reason;
        ErrorCategory category = job.LastErrorCategory ?? entry.Category;
        string reason = entry.Reason.Contains(error, StringComparison.Ordinal) ? string.Empty : $" Dead-letter reason: {entry.Reason}";
        return string.Create(
            CultureInfo.InvariantCulture,
            $"Job '{job.Id}' of queue '{job.Queue}' failed for good: dead-lettered at {entry.DeadLetteredAt.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.fff'Z'} after attempt {job.Attempts} of {job.MaxAttempts}, with {category} error {error}.{reason}");
    }
}
