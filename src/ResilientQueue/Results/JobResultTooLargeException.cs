namespace ResilientQueue.Results;

/// <summary>
/// A result is larger than <see cref="JobResultOptions.MaxBytes"/>; nothing was written and the job is still leased. In
/// the hosted worker the job fails with this exception, which the default error classifier treats as a validation error
/// (dead-lettered at once: the same input would give the same result again).
/// </summary>
public sealed class JobResultTooLargeException : ResilientQueueException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="queueName">The queue.</param>
    /// <param name="jobId">The job whose result it is.</param>
    /// <param name="size">The result's size in bytes.</param>
    /// <param name="limit">The configured limit in bytes.</param>
    public JobResultTooLargeException(string queueName, string jobId, int size, int limit)
        : base($"The result of job '{jobId}' is {size} bytes, over the {limit}-byte limit of queue '{queueName}' (JobQueueOptions.Results.MaxBytes). Nothing was stored.")
    {
        QueueName = queueName;
        JobId = jobId;
        Size = size;
        Limit = limit;
    }

    /// <summary>The queue.</summary>
    public string QueueName { get; }

    /// <summary>The job whose result it is.</summary>
    public string JobId { get; }

    /// <summary>The result's size in bytes.</summary>
    public int Size { get; }

    /// <summary>The configured limit in bytes.</summary>
    public int Limit { get; }
}
